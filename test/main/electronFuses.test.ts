// The packaged app's Electron fuses (issue 10), set by electron-builder's
// `electronFuses` (it runs @electron/fuses on the packaged binary): no
// ELECTRON_RUN_AS_NODE, no NODE_OPTIONS, no --inspect, encrypted cookies,
// asar integrity, app code only from the asar, no extra file:// privileges.
// Checked against electron-builder's own schema too (no download needed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));

test('package.json sets each fuse', () => {
  assert.deepEqual(pkg.build.electronFuses, {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
  });
  assert.equal(pkg.build.asar, true, 'asar integrity and onlyLoadAppFromAsar need the asar');
});

test('electron-builder accepts the build section with the fuses', async () => {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js');
  const { DebugLogger } = require('builder-util');
  await validateConfiguration(pkg.build, new DebugLogger(false));
  await assert.rejects(validateConfiguration({ ...pkg.build, electronFuses: { runAsNod: false } }, new DebugLogger(false)));
});

test('Electron is pinned on the latest 45.x that was tested, ws at least the tested 8.23', () => {
  assert.match(pkg.devDependencies.electron, /^45\.\d+\.\d+$/);
  assert.equal(pkg.dependencies.ws, '^8.23.0');
});
