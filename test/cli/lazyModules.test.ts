// The libraries only some runs need are loaded when first used, not at start:
// the PAC engine (QuickJS, 3 MB of heap), the system-store reader and MD4.
// A larger live heap is not only memory: between 8 and 15 MB of it V8 runs
// a full collection every few MB a tunnel relays (docs/benchmark.md), so a
// top-level import of one of these would halve the throughput of every
// `wssh connect` and `wssh server`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const LAZY = ['pac-resolver', '@tootallnate/quickjs-emscripten', 'degenerator', 'system-ca', 'js-md4'];

/** The npm packages a fresh Node has loaded after requiring `modules` (dist paths). */
function packagesLoadedBy(modules: string[]): string[] {
  const script = `
    for (const m of ${JSON.stringify(modules)}) require(m);
    const names = Object.keys(require.cache)
      .filter((f) => f.includes('node_modules'))
      .map((f) => { const p = f.split(/node_modules[\\\\/]/).pop().split(/[\\\\/]/); return p[0].startsWith('@') ? p[0] + '/' + p[1] : p[0]; });
    process.stdout.write(JSON.stringify([...new Set(names)]));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

test('the CLI, the proxy and the server start without the libraries only some runs need', () => {
  const dist = path.join(__dirname, '..', '..');
  const loaded = packagesLoadedBy([
    path.join(dist, 'src', 'cli', 'commands.js'),
    path.join(dist, 'src', 'core', 'localProxy', 'connectProxy.js'),
    path.join(dist, 'server', 'wsshServer.js'),
  ]);
  assert.ok(loaded.includes('ws'), `the check sees packages: ${loaded.join(' ')}`);
  for (const name of LAZY) assert.ok(!loaded.includes(name), `${name} is loaded at start (loaded: ${loaded.join(' ')})`);
});
