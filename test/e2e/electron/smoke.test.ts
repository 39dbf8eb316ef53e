// The packaged shape of the app in a real Electron, through playwright-core's
// _electron: it starts, creates its tray icon, opens its window with the
// renderer and the preload bridge, and starts the tunnel.
//
// Electron's binary is downloaded on first use, which this machine cannot do:
// where it is absent the test skips and says so. `electron` is never
// require()d here: under Node that would try the download.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../../scripts/harness/ports';
import { tempDir } from '../../fixtures/tmp';

const root = path.resolve(__dirname, '..', '..', '..', '..');

/** The Electron executable from node_modules/electron, if it was downloaded. */
function electronBinary(): { path?: string; missing?: string } {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('electron/package.json', { paths: [root] }));
  } catch {
    return { missing: 'the electron package is not installed (npm ci)' };
  }
  const pathFile = path.join(pkgDir, 'path.txt');
  if (!fs.existsSync(pathFile))
    return { missing: `Electron's binary was never downloaded (no ${pathFile}; ELECTRON_SKIP_BINARY_DOWNLOAD is set or there was no network)` };
  const binary = path.join(pkgDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
  if (!fs.existsSync(binary)) return { missing: `Electron's binary is missing: ${binary}` };
  return { path: binary };
}

test('Electron: app starts, tray created, window opens, tunnel starts', async (t) => {
  const electron = electronBinary();
  if (!electron.path) {
    t.skip(`${electron.missing}: the Electron smoke test runs where Electron can be downloaded`);
    return;
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    t.skip('Electron needs a display: run under xvfb-run');
    return;
  }
  const { _electron } = await import('playwright-core');
  const userData = tempDir(t);
  const port = await freePort();
  fs.writeFileSync(
    path.join(userData, 'settings.json'),
    JSON.stringify({
      version: 2,
      endpoints: [{ id: 'local', name: 'Local', uri: 'ws://127.0.0.1:4567/ssh', user: '', secret: '', keepaliveSec: 30 }],
      activeEndpointId: 'local',
      listen: { host: '127.0.0.1', port },
      startTunnelAtLaunch: false,
      startAtLogin: false,
    }),
  );
  const app = await _electron.launch({
    executablePath: electron.path,
    args: [root, '--no-sandbox'],
    env: { ...process.env, WSSH_USER_DATA: userData, WSSH_TEST_HOOKS: '1' } as Record<string, string>,
  });
  t.after(() => app.close().catch(() => {}));
  const window = await app.firstWindow();
  await window.waitForSelector('body[data-ready="true"]');
  assert.equal(await window.title(), 'WSSH');
  const hasTray = await app.evaluate(() => {
    const hooks = (globalThis as Record<string, unknown>).wsshApp as { tray: { tray: { isDestroyed(): boolean } } } | undefined;
    return hooks !== undefined && !hooks.tray.tray.isDestroyed();
  });
  assert.equal(hasTray, true, 'the tray icon exists');
  // The page reaches main only through the preload bridge.
  assert.equal(await window.evaluate('typeof require'), 'undefined');
  assert.equal(await window.evaluate('typeof window.wssh.startTunnel'), 'function');
  await window.locator('#header-toggle').click();
  await window.locator('#state-pill', { hasText: `Listening on 127.0.0.1:${port}` }).waitFor();
});
