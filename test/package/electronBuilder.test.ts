// Would the installer hold what the app loads? electron-builder cannot
// package here (it downloads Electron, NSIS, winCodeSign), so this asks
// electron-builder's own code the questions without packaging:
//
// - its schema check on package.json's `build` section (a misspelt key fails);
// - which files it would pack: its own file matchers for the `files` globs
//   (getMainFileMatchers, with the default exclusions) and its own copier for
//   the production dependencies (NodeModuleCopyHelper), run on this checkout;
// - what the main process and the preload load at run time: their requires
//   and imports followed through by esbuild from dist/src/main/main.js and
//   dist/app/preload.js, plus the files they open by path (the page, its
//   script and stylesheet, the icons);
// - that every native module is unpacked from the asar (`asarUnpack`).
//
// Needs `npm run build` first (it reads dist/).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import { APP_USER_MODEL_ID } from '../../src/main/appStartup';
import { TRAY_STATES, TRAY_THEMES, trayIconFileName } from '../../src/main/tray/trayIcon';
import { requireOptionalModules } from '../fixtures/optionalModules';

const root = path.resolve(__dirname, '..', '..', '..');
const requireHere = createRequire(path.join(root, 'package.json'));
const { validateConfiguration } = requireHere('app-builder-lib/out/util/config/config.js');
const { DebugLogger } = requireHere('builder-util');
const fileMatcher = requireHere('app-builder-lib/out/fileMatcher.js');
const { NodeModuleCopyHelper } = requireHere('app-builder-lib/out/util/NodeModuleCopyHelper.js');
const { isLibOrExe } = requireHere('app-builder-lib/out/asar/unpackDetector.js');

type BuildConfig = Record<string, unknown> & {
  files?: unknown;
  asarUnpack?: unknown;
  includePdb?: boolean;
  win?: Record<string, unknown>;
  directories?: { output?: string; buildResources?: string };
};
type Stat = fs.Stats & { moduleFullFilePath?: string };
type Filter = (file: string, stat: Stat) => boolean;

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { build: BuildConfig; main: string };
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean; optional?: boolean; os?: string[] }>;
};

/**
 * Requires that their caller makes inside a try block, so a package without
 * them still works. Each says why it may be missing.
 */
const OPTIONAL_AT_RUN_TIME: Record<string, string> = {
  'node_modules/supports-color': "debug's colours for a terminal (debug/src/node.js tries it); a dev dependency, never packed",
  'node_modules/has-flag': 'only needed by supports-color',
};

const macroExpander = (text: string) => text;
const destination = path.join(root, 'packed');

interface PackedFile {
  /** Where electron-builder copies it from. */
  source: string;
  stat: Stat;
}

interface Packed {
  /** By path inside the app (app.asar or app.asar.unpacked), `/`-separated. */
  files: Map<string, PackedFile>;
  /** Whether a packed file goes to app.asar.unpacked (the `asarUnpack` globs). */
  unpacked(file: PackedFile): boolean;
}

/**
 * What electron-builder would put in the app for `config`: the app's own
 * files through its main file matcher, and each production dependency (the
 * lock file's non-dev packages installed here) through its copier.
 */
async function packedApp(config: BuildConfig, production: (lockKey: string) => boolean): Promise<Packed> {
  const outDir = path.join(root, config.directories?.output ?? 'dist');
  const platformOptions = config.win ?? {};
  const info = {
    projectDir: root,
    buildResourcesDir: config.directories?.buildResources ?? 'build',
    isPrepackedAppAsar: false,
    config,
    debugLogger: new DebugLogger(false),
    appInfo: { type: 'commonjs' },
    getWorkspaceRoot: async () => root,
  };
  const files = new Map<string, PackedFile>();

  // The app's own files; like electron-builder's walk, it descends only into folders the filter passes.
  const [main] = fileMatcher.getMainFileMatchers(root, destination, macroExpander, platformOptions, { info }, outDir, false);
  const appFilter: Filter = main.createFilter();
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      const stat = fs.lstatSync(file) as Stat;
      if (name === 'node_modules' && dir === root) continue; // copied below, as electron-builder does
      if (!appFilter(file, stat)) continue;
      if (stat.isDirectory()) walk(file);
      else files.set(toPosix(path.relative(root, file)), { source: file, stat });
    }
  };
  walk(root);

  const nodeModuleMatcher = fileMatcher.getNodeModuleFileMatcher(root, destination, macroExpander, platformOptions, info);
  // What electron-builder leaves out of node_modules for a Windows target (appFileCopier's getNodeModuleExcludedExts).
  const excludedExts = [
    '.o',
    '.obj',
    ...String(fileMatcher.excludedExts)
      .split(',')
      .map((ext) => `.${ext}`),
  ];
  if (config.includePdb !== true) excludedExts.push('.pdb');
  for (const key of Object.keys(lock.packages)) {
    if (!key.startsWith('node_modules/') || !production(key)) continue;
    const dir = path.join(root, key);
    if (!fs.existsSync(dir)) continue; // an optional dependency for another OS: nothing to pack from here
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const matcher = new fileMatcher.FileMatcher(dir, path.join(destination, key), macroExpander, nodeModuleMatcher.patterns);
    const copier = new NodeModuleCopyHelper(matcher, info);
    const copied: string[] = await copier.collectNodeModules({ dir, name }, excludedExts, key);
    for (const file of copied) {
      const stat = copier.metadata.get(file) as Stat | undefined;
      if (stat) files.set(toPosix(stat.moduleFullFilePath!), { source: file, stat });
    }
  }

  const unpackMatchers = fileMatcher.getFileMatchers(config, 'asarUnpack', destination, {
    macroExpander,
    customBuildOptions: platformOptions,
    globalOutDir: outDir,
    defaultSrc: root,
  });
  const unpackFilter: Filter | undefined = unpackMatchers?.[0]?.createFilter();
  return { files, unpacked: (file) => unpackFilter?.(file.source, file.stat) ?? false };
}

/** A production dependency: in the lock file and not only for development. */
const productionPackage = (key: string) => lock.packages[key] !== undefined && lock.packages[key].dev !== true;

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/**
 * Every file the main process and the preload load at run time, relative to
 * the checkout: the modules esbuild's resolver reaches from the two entry
 * points (requires and imports, static and dynamic, followed through
 * node_modules with the packages' own `exports`), and the files they open by
 * path.
 */
async function runTimeFiles(): Promise<string[]> {
  const entries = [path.join(root, pkg.main), path.join(root, 'dist', 'app', 'preload.js')];
  for (const entry of entries) assert.ok(fs.existsSync(entry), `${entry} is missing: run npm run build first`);
  const result = await build({
    entryPoints: entries,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: ['electron'],
    write: false,
    metafile: true,
    // Paths as the checkout has them, also where node_modules is a link (a git worktree's).
    preserveSymlinks: true,
    outdir: path.join(root, 'dist', 'packcheck'),
    logLevel: 'silent',
  });
  const modules = Object.keys(result.metafile.inputs).map((input) => toPosix(path.relative(root, path.resolve(root, input))));
  // Opened by path: windows.ts loads the page and the preload from dist/app, the page its script and stylesheet, tray.ts and main.ts the icons.
  const page = 'dist/app/renderer/index.html';
  const html = fs.readFileSync(path.join(root, page), 'utf8');
  const referenced = [...html.matchAll(/\b(?:src|href)="([^"#:]+)"/g)].map((m) => toPosix(path.join(path.dirname(page), m[1])));
  const icons = TRAY_STATES.flatMap((state) =>
    TRAY_THEMES.flatMap((theme) => ['win32', 'linux'].map((platform) => `assets/${trayIconFileName(state, theme, platform as NodeJS.Platform)}`)),
  );
  return [...new Set([...modules, page, 'dist/app/preload.js', ...referenced, ...icons, 'assets/app.ico', 'package.json'])].sort();
}

/** What the app would miss, in words: empty when the package holds everything. */
function problems(packed: Packed, needed: string[], production = productionPackage): string[] {
  const found: string[] = [];
  for (const file of needed) {
    const pkgDir = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];
    if (pkgDir !== undefined && OPTIONAL_AT_RUN_TIME[pkgDir] !== undefined) continue;
    if (!fs.existsSync(path.join(root, file))) found.push(`${file}: loaded at run time, but not in the checkout`);
    else if (!packed.files.has(file)) {
      found.push(
        pkgDir !== undefined && !production(pkgDir)
          ? `${file}: loaded at run time from ${pkgDir}, which is not a production dependency`
          : `${file}: loaded at run time, but not packed`,
      );
    }
  }
  for (const [file, entry] of packed.files) {
    if (isLibOrExe(file) && !packed.unpacked(entry)) found.push(`${file}: a native module inside the asar (add it to asarUnpack)`);
  }
  return found;
}

test("the build section passes electron-builder's schema check, and a misspelt key fails it", async () => {
  await validateConfiguration(structuredClone(pkg.build), new DebugLogger(false));
  // Windows shows the app's notifications only under the installer's appId.
  assert.equal(pkg.build.appId, APP_USER_MODEL_ID);
  await assert.rejects(validateConfiguration({ ...structuredClone(pkg.build), fiels: pkg.build.files }, new DebugLogger(false)), /fiels/);
  // A misspelt key one level down: the schema names the section it is in.
  const nsis = { ...(pkg.build.nsis as object), oneClik: false };
  await assert.rejects(validateConfiguration({ ...structuredClone(pkg.build), nsis }, new DebugLogger(false)), /configuration\.nsis should be/);
});

test('everything the main process and the preload load at run time is packed; native modules are unpacked', async (t) => {
  if (!requireOptionalModules(t, 'electron-store', 'bufferutil')) return;
  const needed = await runTimeFiles();
  const packed = await packedApp(structuredClone(pkg.build), productionPackage);
  t.diagnostic(`${needed.length} files loaded at run time, ${packed.files.size} packed`);
  // The graph reaches what it must: the main process's own code, the contract, a production dependency, a native one.
  for (const file of [
    'dist/src/main/main.js',
    'dist/src/shared/ipc.js',
    'dist/src/core/localProxy/connectProxy.js',
    'node_modules/ws/index.js',
    'node_modules/electron-store/index.js',
    'node_modules/bufferutil/index.js',
  ]) {
    assert.ok(needed.includes(file), `${file} is among the run-time files`);
  }
  assert.deepEqual(problems(packed, needed), []);
  const natives = [...packed.files.keys()].filter((f) => f.endsWith('.node'));
  assert.ok(natives.includes('node_modules/bufferutil/prebuilds/win32-x64/bufferutil.node'), 'the Windows build of bufferutil is packed');
  assert.ok(
    natives.every((f) => packed.unpacked(packed.files.get(f)!)),
    'and unpacked',
  );
  assert.ok(!packed.files.has('dist/app/renderer/app.js.map'), 'source maps stay out');
});

test('a missing file fails the check: a folder left out of files, a dependency moved to dev, a native module kept in the asar', async (t) => {
  if (!requireOptionalModules(t, 'electron-store', 'bufferutil')) return;
  const needed = await runTimeFiles();
  const withoutShared = structuredClone(pkg.build);
  withoutShared.files = (withoutShared.files as string[]).filter((glob) => glob !== 'dist/src/shared/**/*.js');
  assert.ok((withoutShared.files as string[]).length < (pkg.build.files as string[]).length, 'the shared folder has its own glob');
  assert.ok(problems(await packedApp(withoutShared, productionPackage), needed).includes('dist/src/shared/ipc.js: loaded at run time, but not packed'));

  const wsIsDev = (key: string) => key !== 'node_modules/ws' && productionPackage(key);
  assert.ok(
    problems(await packedApp(structuredClone(pkg.build), wsIsDev), needed, wsIsDev).includes(
      'node_modules/ws/index.js: loaded at run time from node_modules/ws, which is not a production dependency',
    ),
  );

  const packedInAsar = structuredClone(pkg.build);
  delete packedInAsar.asarUnpack;
  assert.ok(
    problems(await packedApp(packedInAsar, productionPackage), needed).includes(
      'node_modules/bufferutil/prebuilds/win32-x64/bufferutil.node: a native module inside the asar (add it to asarUnpack)',
    ),
  );
});
