// The app's proxy sign-in and client certificate in Debian's Chromium, against
// the bridge to the real WsshApi, a real WSSH server and tinyproxy (Basic
// authentication) as the corporate proxy: the password typed in the editor is
// stored sealed (never in the settings file in clear), a proxy that refuses
// it shows the error state, the message and where to fix it, and a
// notification; the right password opens the tunnel. The file picker for a
// client certificate fills the field through the preload API.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { requireProgram } from '../../../scripts/harness/programs';
import { freePort } from '../../../scripts/harness/ports';
import { connectThroughProxy, waitFor } from '../../fixtures/tunnel';
import { rendererRig, screenshot } from '../../fixtures/rendererBridge';
import { startTinyproxy, type Tinyproxy } from '../../fixtures/tinyproxy';
import type { PickFileRequest } from '../../../src/shared/ipc';
import { SETTINGS_VERSION } from '../../../src/main/settings/settingsSchema';

const rig = rendererRig();
const open = (t: TestContext, pickFile?: (request: PickFileRequest) => string | undefined) => rig.open(t, { pickFile });

test('proxy sign-in: stored sealed; a refusal shows where to fix it; the right password gets through', async (t) => {
  if (!requireProgram(t, 'tinyproxy')) return;
  const picked: PickFileRequest[] = [];
  const app = await open(t, (request) => (picked.push(request), `C:\\certs\\alice.${request.kind === 'key' ? 'key' : 'crt'}`));
  if (!app) return;
  const proxy: Tinyproxy = await startTinyproxy({ connectPorts: [rig.wssh.port], auth: { user: 'alice', password: 'right-one' } });
  t.after(() => proxy.stop());
  const { page, settings, controller } = app;
  await page.getByRole('tab', { name: 'Endpoints' }).click();
  await page.getByLabel('Endpoint URI').fill(rig.wssh.uri);
  const details = page.locator('details.advanced');
  await details.locator('summary').click();
  assert.equal(await page.getByLabel('Use my Windows sign-in').isChecked(), true, 'the default');
  assert.equal(await page.getByLabel('Proxy user').isDisabled(), true);
  await page.getByLabel('Custom URL').check();
  await page.getByLabel('Proxy URL').fill(proxy.bareUrl);
  await page.getByLabel('User and password').check();
  await page.getByLabel('Proxy user').fill('');
  await waitFor('user message', async () => /Give the proxy user/.test(await page.locator('#ep-proxy-user-message').innerText()));
  await page.getByLabel('Proxy user').fill('alice');
  await page.getByLabel('Proxy password').fill('wrong-one');
  // The file picker, through the preload API.
  await page.getByRole('button', { name: 'Browse for the client certificate' }).click();
  await waitFor('picked file', async () => (await page.getByLabel('Client certificate (PEM)').inputValue()) === 'C:\\certs\\alice.crt');
  assert.deepEqual(picked, [{ title: 'the client certificate', kind: 'certificate' }]);
  await waitFor('key message', async () => /needs its key file/.test(await page.locator('#ep-client-cert-message').innerText()));
  await page.getByLabel('Client certificate (PEM)').fill('');
  await waitFor('no messages', async () => (await details.locator('.field-message').allInnerTexts()).every((m) => m === ''));
  await screenshot(page, 'endpoints-proxy-sign-in');
  await page.getByRole('button', { name: 'Save' }).click();
  await waitFor('saved', () => settings.view().endpoints[0].hasProxySecret);
  const view = settings.view().endpoints[0];
  assert.deepEqual([view.proxy, view.proxyAuth], [{ url: proxy.bareUrl }, { mode: 'password', user: 'alice' }]);
  const onDisk = fs.readFileSync(settings.path, 'utf8');
  assert.ok(!onDisk.includes('wrong-one'), 'the password is not in the settings file in clear');
  assert.equal(JSON.parse(onDisk).version, SETTINGS_VERSION);

  // The proxy refuses: the error state, the message, where to fix it, a notice.
  settings.update({ listen: { host: '127.0.0.1', port: await freePort() } });
  await controller.start();
  const port = controller.state().listen.port;
  const refused = await connectThroughProxy(port, `127.0.0.1:${rig.sshd.port}`);
  refused.socket.destroy();
  assert.equal(refused.status, 502);
  await page.getByRole('tab', { name: 'Status' }).click();
  await page.locator('#state-pill', { hasText: 'Error' }).waitFor();
  assert.match(
    await page.locator('#status-reason').innerText(),
    new RegExp(`the HTTP proxy at http://alice:\\*\\*\\*@127\\.0\\.0\\.1:${proxy.port} refused the credentials of "alice"`),
  );
  assert.equal(await page.locator('#status-fix').innerText(), 'Endpoints ▸ Local WSSH server ▸ Advanced ▸ Proxy sign-in');
  assert.match(
    await page.locator('.notice').first().innerText(),
    /Tunnel failed\s.*refused the credentials of "alice".* Fix it in Endpoints ▸ Local WSSH server ▸ Advanced ▸ Proxy sign-in\./s,
  );
  await screenshot(page, 'status-proxy-refused');

  // The right password (typed in a proxy URL: it moves to the sealed sign-in too).
  const saved = settings.saveEndpoint({ ...settings.view().endpoints[0], proxy: { url: proxy.url }, proxySecret: undefined });
  assert.ok(saved.ok, saved.ok ? '' : saved.error);
  assert.deepEqual(settings.view().endpoints[0].proxy, { url: proxy.bareUrl });
  assert.ok(!fs.readFileSync(settings.path, 'utf8').includes('right-one'));
  controller.endpointChanged();
  const ok = await connectThroughProxy(port, `127.0.0.1:${rig.sshd.port}`);
  t.after(() => ok.socket.destroy());
  assert.equal(ok.status, 200);
  assert.deepEqual(proxy.connects().slice(-1), [`127.0.0.1:${rig.wssh.port}`]);
});

test("what goes to the proxy is said where it is chosen: the Windows sign-in's approval, the password's proxy, Basic in clear", async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page, settings, api } = app;
  await page.getByRole('tab', { name: 'Endpoints' }).click();
  const details = page.locator('details.advanced');
  await details.locator('summary').click();
  const approve = page.getByLabel('Send my Windows sign-in to this proxy');
  const clear = page.getByLabel('Allow my Windows password as Basic over plain http://');
  assert.deepEqual([await approve.isDisabled(), await clear.isDisabled()], [true, true], 'System, and the Windows sign-in: neither applies');

  // A proxy typed here is the user's own: the approval starts ticked, in words, and is saved with it.
  await page.getByLabel('Custom URL').check();
  await page.getByLabel('Proxy URL').fill('http://proxy-a.corp.example:3128');
  assert.deepEqual([await approve.isDisabled(), await approve.isChecked()], [false, true]);
  await page.getByLabel('User and password').check();
  await page.getByLabel('Proxy user').fill('CORP\\alice');
  await page.getByLabel('Proxy password').fill('pw');
  await clear.check();
  await page.getByRole('button', { name: 'Save' }).click();
  await waitFor('saved', () => settings.view().endpoints[0].hasProxySecret);
  const view = settings.view().endpoints[0];
  assert.deepEqual([view.proxyAuth, view.proxyWindowsSignIn], [{ mode: 'password', user: 'CORP\\alice', clearBasic: true }, true]);

  // Another proxy typed: the stored password stays behind, and the form says so before Save.
  const message = page.locator('#ep-proxy-secret-message');
  await page.getByLabel('Proxy URL').fill('http://proxy-b.corp.example:3128');
  await waitFor('binding message', async () => /The proxy or user changed: the stored password will not be sent/.test(await message.innerText()));
  await screenshot(page, 'endpoints-proxy-password-moved');
  await page.getByLabel('Proxy URL').fill('http://proxy-a.corp.example:3128');
  await waitFor('message gone', async () => (await message.innerText()) === '');

  // An imported profile's proxy: unticked until the user ticks it.
  const profile = JSON.stringify({ wsshProfile: 1, name: 'Imported', uri: 'ws://gw.example.test/ssh', proxy: { url: 'http://proxy.sender.example:8080' } });
  const imported = await api.importProfile({ text: profile, source: 'a wssh:// link', mode: 'add' });
  assert.ok(imported.ok, JSON.stringify(imported));
  await page.locator('.endpoint-item', { hasText: 'Imported' }).click();
  await waitFor('imported shown', async () => (await page.getByLabel('Proxy URL').inputValue()) === 'http://proxy.sender.example:8080');
  assert.equal(await approve.isChecked(), false);
  await approve.check();
  await page.getByRole('button', { name: 'Save' }).click();
  await waitFor('approved', () => settings.view().endpoints.find((e) => e.id === imported.value.id)?.proxyWindowsSignIn === true);
  assert.deepEqual(app.problems, []);
});
