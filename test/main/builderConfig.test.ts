// The installer's configuration (package.json "build"), checked with
// electron-builder's own code, without packaging (that needs downloads):
// its schema accepts the config, .wssh files and wssh:// links are registered
// for the profile import, and the app's production modules (what the
// installer packs) still include its settings store, which the npm package of
// the CLI lists as optional.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PROFILE_EXTENSION } from '../../src/core/profile';

const REPO = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));

test('electron-builder accepts the build config; a misspelt key is refused', async () => {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js');
  const { DebugLogger } = require('builder-util');
  await validateConfiguration(structuredClone(pkg.build), new DebugLogger(false));
  await assert.rejects(() => validateConfiguration({ ...structuredClone(pkg.build), fileAssociation: [] }, new DebugLogger(false)), /fileAssociation/);
});

test('.wssh files and wssh:// links open the app (the profile import)', () => {
  assert.deepEqual(pkg.build.fileAssociations.map((a: { ext: string }) => a.ext), [PROFILE_EXTENSION.slice(1)]);
  assert.deepEqual(pkg.build.protocols.flatMap((p: { schemes: string[] }) => p.schemes), ['wssh']);
});

test('the installer still packs the settings store: electron-builder\'s own npm collector lists it, and no dev tool', async () => {
  const { getCollectorByPackageManager, PM } = require('app-builder-lib/out/node-module-collector');
  const { TmpDir } = require('temp-file');
  const tmp = new TmpDir('wssh-collector');
  try {
    const collected = await getCollectorByPackageManager(PM.NPM, REPO, tmp).getNodeModules({ packageName: pkg.name });
    const names = (mods: Array<{ name: string; dependencies?: unknown[] }>): string[] => mods.flatMap((m) => [m.name, ...names((m.dependencies ?? []) as never)]);
    const packed = new Set(names(collected.nodeModules));
    for (const name of ['electron-store', 'conf', 'ws', 'yaml', 'bufferutil']) assert.ok(packed.has(name), `${name} packed into the app`);
    for (const name of ['electron', 'electron-builder', 'typescript', 'esbuild']) assert.ok(!packed.has(name), `${name} not packed`);
  } finally {
    await tmp.cleanup();
  }
});
