/**
 * Bundles what tsc alone cannot ship: the sandboxed preload script (it may
 * only require 'electron', so the IPC contract is bundled into it) and the
 * renderer (a browser page: one script, its HTML and CSS). Output in dist/app/.
 * The renderer imports only browser code (src/renderer, src/shared): a Node
 * module reaching its graph fails this build.
 *
 *   node dist/scripts/bundle.js
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(__dirname, '..', '..');
const out = path.join(root, 'dist', 'app');

async function main(): Promise<void> {
  fs.rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints: [path.join(root, 'src', 'preload', 'preload.ts')],
    outfile: path.join(out, 'preload.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['electron'],
    sourcemap: true,
    logLevel: 'warning',
  });
  await build({
    entryPoints: [path.join(root, 'src', 'renderer', 'app.ts')],
    outfile: path.join(out, 'renderer', 'app.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'styles.css']) {
    fs.copyFileSync(path.join(root, 'src', 'renderer', file), path.join(out, 'renderer', file));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
