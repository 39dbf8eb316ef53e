// Where the app keeps its data on Windows, on Windows Node under wine
// (src/main/settings/dataPaths.ts): the real %APPDATA% of the prefix's user, and a
// portable folder beside the .exe, both written to. The rules themselves:
// test/main/dataPaths.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, startWine, winPath } from '../../fixtures/wine';

test('on Windows Node (wine): the real %APPDATA% and a portable folder, written to', { timeout: 120_000 }, async (t) => {
  const wine = await startWine(t);
  if (!wine) return;
  const script = [
    `const { resolveDataPaths } = require(${JSON.stringify(winPath(path.join(REPO_ROOT, 'dist', 'src', 'main', 'settings', 'dataPaths.js')))});`,
    "const fs = require('node:fs');",
    'const paths = resolveDataPaths({ platform: process.platform, env: process.env });',
    'fs.mkdirSync(paths.logs, { recursive: true });',
    "fs.writeFileSync(paths.settingsFile, '{}');",
    'console.log(JSON.stringify(paths));',
  ].join('\n');
  const installed = await wine.runNode(['-e', script]);
  assert.equal(installed.code, 0, installed.stderr);
  const paths = JSON.parse(installed.stdout.toString());
  const user = os.userInfo().username;
  assert.equal(paths.userData, `C:\\users\\${user}\\AppData\\Roaming\\WSSH`);
  assert.equal(paths.source, 'APPDATA');
  assert.ok(fs.existsSync(path.join(wine.prefix, 'drive_c', 'users', user, 'AppData', 'Roaming', 'WSSH', 'settings.json')));

  const stick = path.join(wine.dir, 'stick');
  fs.mkdirSync(stick);
  const portable = await wine.runNode(['-e', script], { env: { PORTABLE_EXECUTABLE_DIR: winPath(stick) } });
  assert.equal(portable.code, 0, portable.stderr);
  assert.equal(JSON.parse(portable.stdout.toString()).userData, `${winPath(stick)}\\WSSH Data`);
  assert.ok(fs.existsSync(path.join(stick, 'WSSH Data', 'settings.json')), 'the settings file is beside the .exe');
  assert.ok(fs.statSync(path.join(stick, 'WSSH Data', 'logs')).isDirectory());
});
