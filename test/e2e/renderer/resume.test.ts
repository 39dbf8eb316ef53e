// Resume as the window shows it (issue #20), in Debian's Chromium against the
// bridge to the real WsshApi, the real core proxy and a real WSSH server with
// the Cutter in front of it (test/fixtures/resumeRig.ts): the endpoint
// setting in the editor's Advanced section; the path cut and down, so the
// header, the Status view, the tray's menu line and tooltip say "Reconnecting…
// (2 tunnels)" and each Connections row is marked; the path back, the rows
// counting one resume each and no notice; and sessions lost together, one
// notice. Screenshots go to test-results/renderer/ (the reconnecting ones are
// in the README and docs/tray-app.md).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../../../scripts/harness/ports';
import { waitFor } from '../../fixtures/tunnel';
import { rendererRig, screenshot } from '../../fixtures/rendererBridge';
import { echoes, openEchoTunnel, startBreakablePath, useBreakablePath } from '../../fixtures/resumeRig';
import { trayMenuModel, trayTooltip } from '../../../src/main/tray/trayMenu';
import { trayIconFileName } from '../../../src/main/tray/trayIcon';

const rig = rendererRig();

test('the endpoint setting: on by default, turned off and on again in the Advanced section', async (t) => {
  const app = await rig.open(t);
  if (!app) return;
  const { page, settings } = app;
  await page.getByRole('tab', { name: 'Endpoints' }).click();
  await page.getByRole('heading', { name: 'Edit “Local WSSH server”' }).waitFor();
  const details = page.locator('details.advanced');
  assert.equal((await details.getAttribute('open')) !== null, false, 'closed: nothing in it differs from the defaults');
  await details.locator('summary').click();
  const resume = page.getByLabel('Resume tunnels after a break');
  assert.equal(await resume.isChecked(), true);
  await resume.uncheck();
  await page.getByRole('button', { name: 'Save' }).click();
  await waitFor('saved off', () => settings.view().endpoints[0].resume === false);
  // Shown again: open, since something in it is set, and unticked.
  await page.getByRole('tab', { name: 'Status' }).click();
  await page.getByRole('tab', { name: 'Endpoints' }).click();
  await page.locator('.endpoint-item', { hasText: 'Local WSSH server' }).click();
  await waitFor('open', async () => (await details.getAttribute('open')) !== null);
  assert.equal(await resume.isChecked(), false);
  await resume.check();
  await page.getByRole('button', { name: 'Save' }).click();
  await waitFor('saved on', () => settings.view().endpoints[0].resume === true);
  assert.deepEqual(app.problems, []);
});

test('a break: reconnecting in the header, the Status view, the tray and each Connections row; back, with the resumes counted and no notice', async (t) => {
  const app = await rig.open(t);
  if (!app) return;
  const { page, settings, controller } = app;
  const path = await startBreakablePath(t);
  useBreakablePath(settings, path);
  settings.update({ listen: { host: '127.0.0.1', port: await freePort() } });
  await controller.start();
  const a = await openEchoTunnel(t, controller, path);
  const b = await openEchoTunnel(t, controller, path);
  await page.locator('#state-pill', { hasText: 'Active' }).waitFor();

  // The way to the gateway goes down (a Wi-Fi gone, a proxy's cut), and stays down while the app tries again.
  path.cutter.block();
  path.cutter.cut('destroy');
  await page.locator('#state-pill', { hasText: 'Reconnecting… (2 tunnels)' }).waitFor();
  assert.equal(await page.locator('#state-pill').getAttribute('data-status'), 'reconnecting');
  assert.equal(await page.locator('#status-state').innerText(), 'Reconnecting… (2 tunnels)');
  assert.equal(await page.locator('#status-tunnels').innerText(), '2 (2 reconnecting)');
  await screenshot(page, 'status-reconnecting');
  // The tray, from the same state: its own icon, the menu's first line, the tooltip.
  const state = controller.state();
  assert.equal(trayIconFileName(state.status, 'light', 'win32'), 'tray-reconnecting-light.ico');
  const menu = trayMenuModel(state, settings.view());
  assert.equal(menu[0].type !== 'separator' && menu[0].label, 'Reconnecting… (2 tunnels)');
  assert.match(trayTooltip(state), /^WSSH: reconnecting… \(2 tunnels\)\nvia Breakable gateway\n2 open tunnels/);

  await page.getByRole('tab', { name: 'Connections' }).click();
  const rows = page.locator('#connections-table tbody tr[data-id]');
  await waitFor('both rows marked', async () => (await page.locator('#connections-table tr.reconnecting').count()) === 2);
  assert.deepEqual(await rows.locator('.reconnecting-mark').allInnerTexts(), ['reconnecting…', 'reconnecting…']);
  assert.deepEqual(await rows.locator('td.resumes').allInnerTexts(), ['0', '0']);
  // The summary comes with the next traffic sample (once a second).
  await page.locator('#traffic-summary', { hasText: '2 open tunnels' }).waitFor();
  await screenshot(page, 'connections-reconnecting');

  // The network is back, and the app says so (reconnectTriggers.ts) instead of waiting for the next attempt.
  path.cutter.block(false);
  controller.reconnectAll('the network changed');
  await page.locator('#state-pill', { hasText: 'Active' }).waitFor({ timeout: 20_000 });
  await waitFor('one resume each', async () => (await rows.locator('td.resumes').allInnerTexts()).join(',') === '1,1');
  assert.equal(await page.locator('#connections-table tr.reconnecting').count(), 0);
  await echoes(a, 'a after the break\n');
  await echoes(b, 'b after the break\n');
  assert.equal(await page.locator('.notice').count(), 0, 'a break that resumed is not notified');
  assert.deepEqual(app.problems, []);
});

test('sessions lost together: one notice in the window, the state back to listening', async (t) => {
  const app = await rig.open(t);
  if (!app) return;
  const { page, settings, controller } = app;
  // A server that keeps a broken session for a second only.
  const path = await startBreakablePath(t, { resumeTimeoutMs: 1000 });
  useBreakablePath(settings, path);
  settings.update({ listen: { host: '127.0.0.1', port: await freePort() } });
  await controller.start();
  await openEchoTunnel(t, controller, path);
  await openEchoTunnel(t, controller, path);
  path.cutter.block();
  path.cutter.cut('destroy');
  const notice = page.locator('.notice');
  await notice.first().waitFor({ timeout: 20_000 });
  await page.locator('#state-pill', { hasText: 'Listening' }).waitFor();
  assert.equal(await notice.count(), 1);
  assert.match(
    await notice.innerText(),
    /^2 SSH sessions lost\s+The sessions to 127\.0\.0\.1:\d+ ended while their tunnels were broken: .+ Connect to them again\./,
  );
  await screenshot(page, 'status-session-lost');
  assert.deepEqual(app.problems, []);
});
