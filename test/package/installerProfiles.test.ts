// The installer's part in the profile import and in the npm package's
// split (package.json "build"; electronBuilder.test.ts checks the schema and
// the packed files): .wssh files and wssh:// links are registered, and
// electron-builder's own npm collector still lists the app's settings store,
// which package.json declares optional so that a CLI install can leave it out.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PROFILE_EXTENSION } from '../../src/core/dial/profile';
import { requireOptionalModules } from '../fixtures/optionalModules';

const REPO = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));

test('.wssh files and wssh:// links open the app (the profile import)', () => {
  assert.deepEqual(
    pkg.build.fileAssociations.map((a: { ext: string }) => a.ext),
    [PROFILE_EXTENSION.slice(1)],
  );
  assert.deepEqual(
    pkg.build.protocols.flatMap((p: { schemes: string[] }) => p.schemes),
    ['wssh'],
  );
});

test("the installer still packs the settings store: electron-builder's own npm collector lists it, and no dev tool", async (t) => {
  if (!requireOptionalModules(t, 'electron-store', 'bufferutil')) return;
  const { getCollectorByPackageManager, PM } = require('app-builder-lib/out/node-module-collector');
  const { TmpDir } = require('temp-file');
  const tmp = new TmpDir('wssh-collector');
  try {
    const collected = await getCollectorByPackageManager(PM.NPM, REPO, tmp).getNodeModules({ packageName: pkg.name });
    const names = (mods: Array<{ name: string; dependencies?: unknown[] }>): string[] =>
      mods.flatMap((m) => [m.name, ...names((m.dependencies ?? []) as never)]);
    const packed = new Set(names(collected.nodeModules));
    for (const name of ['electron-store', 'conf', 'ws', 'yaml', 'bufferutil']) assert.ok(packed.has(name), `${name} packed into the app`);
    for (const name of ['electron', 'electron-builder', 'typescript', 'esbuild']) assert.ok(!packed.has(name), `${name} not packed`);
  } finally {
    await tmp.cleanup();
  }
});
