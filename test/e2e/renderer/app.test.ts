// The renderer in Debian's Chromium (playwright-core), against a bridge that
// runs the app's real WsshApi implementation over real settings, the real core
// proxy, a real WSSH server and a TCP server that greets like rig.sshd.
// Screenshots of each view go to test-results/renderer/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseEndpoint } from '../../../src/shared/endpoint';
import { parsePin } from '../../../src/core/dial/trust/trust';
import { parseProxyUrl } from '../../../src/core/upstream/upstreamProxy';
import { requireProgram } from '../../../scripts/harness/programs';
import { freePort } from '../../../scripts/harness/ports';
import { tempDir } from '../../fixtures/tmp';
import { startInProcessServer } from '../../fixtures/appHarness';
import { connectThroughProxy, waitFor } from '../../fixtures/tunnel';
import { trayTooltip } from '../../../src/main/tray/trayMenu';
import { startWine } from '../../fixtures/wine';
import { wineRegRunner } from '../../fixtures/wineReg';
import { openBridgedApp, rendererRig, screenshot, settled } from '../../fixtures/rendererBridge';

const rig = rendererRig();
const open = rig.open;

function coreMessage(uri: string): string {
  try {
    parseEndpoint(uri);
  } catch (err) {
    const m = (err as Error).message;
    return m.charAt(0).toUpperCase() + m.slice(1) + '.';
  }
  throw new Error(`${uri} is valid`);
}

test('endpoints: add with validation as typed, edit, duplicate, delete and undo', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page, settings } = app;
  await page.getByRole('tab', { name: 'Endpoints' }).click();
  await screenshot(page, 'endpoints-first-run');
  // The first run's default endpoint is there and active.
  const items = page.locator('.endpoint-item');
  assert.equal(await items.count(), 1);
  assert.match(await items.first().innerText(), /Local WSSH server\s+active\s+ws:\/\/localhost:4567\/ssh/);

  await page.getByRole('button', { name: 'Add endpoint' }).click();
  assert.equal(await page.evaluate('document.activeElement.id'), 'ep-name', 'focus goes to the first field');
  await page.getByLabel('Name', { exact: true }).fill('Office gateway');
  const uri = page.getByLabel('Endpoint URI');
  for (const bad of ['https://gw.example.com/ssh', 'wss://gw.example.com:70000/ssh', 'gw.example.com']) {
    await uri.fill(bad);
    assert.equal(await page.locator('#ep-uri-message').innerText(), coreMessage(bad), `message for ${bad}`);
    assert.equal(await uri.getAttribute('aria-invalid'), 'true');
  }
  await uri.fill('https://gw.example.com/ssh');
  await screenshot(page, 'endpoints-validation');
  // Saving with an invalid field keeps the form and focuses the field.
  await page.getByRole('button', { name: 'Save' }).click();
  assert.equal(await page.evaluate('document.activeElement.id'), 'ep-uri');
  assert.equal(settings.view().endpoints.length, 1);

  await uri.fill('wss://gw.example.com/ssh');
  assert.equal(await page.locator('#ep-uri-message').innerText(), '');
  assert.equal(await uri.getAttribute('aria-invalid'), null);
  await page.getByLabel('User (optional)').fill('alice');
  await page.getByLabel('Secret (optional)').fill('s3cret');
  await page.getByLabel('Keepalive (seconds)').fill('20');
  await page.getByRole('button', { name: 'Save' }).click();
  await waitFor('saved', () => settings.view().endpoints.length === 2);
  const saved = settings.view().endpoints[1];
  assert.deepEqual(
    { ...saved, id: '' },
    {
      id: '',
      name: 'Office gateway',
      uri: 'wss://gw.example.com/ssh',
      user: 'alice',
      hasSecret: true,
      keepaliveSec: 20,
      proxy: 'system',
      proxyAuth: { mode: 'windows' },
      hasProxySecret: false,
      proxyWindowsSignIn: false,
      trust: {},
      hasClientPassphrase: false,
      resume: true,
    },
  );
  await page.getByRole('heading', { name: 'Edit “Office gateway”' }).waitFor();
  assert.equal(await page.getByLabel('Secret (optional)').getAttribute('placeholder'), 'stored (type to replace)');
  assert.equal(await page.getByLabel('Secret (optional)').inputValue(), '', 'the secret never comes back to the page');

  // Edit: rename.
  await page.getByLabel('Name', { exact: true }).fill('Office');
  await page.getByRole('button', { name: 'Save' }).click();
  await waitFor('renamed', () => settings.view().endpoints[1].name === 'Office');
  await page.getByRole('heading', { name: 'Edit “Office”' }).waitFor();
  assert.equal(settings.view().endpoints[1].hasSecret, true, 'an empty secret field keeps the stored secret');

  // Duplicate.
  await page.getByRole('button', { name: 'Duplicate' }).click();
  await waitFor('duplicated', () => settings.view().endpoints.length === 3);
  assert.equal(settings.view().endpoints[2].name, 'Office (copy)');
  await page.getByRole('heading', { name: 'Edit “Office (copy)”' }).waitFor();
  await screenshot(page, 'endpoints-edit');

  // Delete, then Undo (focus lands on Undo for keyboard users).
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.locator('.undo-bar', { hasText: 'Deleted “Office (copy)”' }).waitFor();
  assert.equal(await page.evaluate('document.activeElement.textContent'), 'Undo');
  await screenshot(page, 'endpoints-undo');
  await page.keyboard.press('Enter');
  await waitFor('restored', () => settings.view().endpoints.length === 3);
  await waitFor(
    'restored in the list',
    async () => (await items.locator('.endpoint-name').allInnerTexts()).join('|') === 'Local WSSH server|Office|Office (copy)',
  );
  await page.getByRole('heading', { name: 'Edit “Office (copy)”' }).waitFor(); // the restored endpoint is in the editor
  assert.deepEqual(app.problems, []);
});

/** The core's message as the editor shows it: capitalized, with a full stop. */
function shown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    const m = (err as Error).message;
    return m.charAt(0).toUpperCase() + m.slice(1) + '.';
  }
  throw new Error('no error');
}

test('endpoints: editing the URI to another host drops the stored secret, says so, and asks for it again (issue 10)', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page, settings } = app;
  const saved = settings.saveEndpoint({ name: 'Office', uri: 'wss://gw.example.com/ssh', user: 'alice', secret: 's3cret', keepaliveSec: 20 });
  assert.ok(saved.ok);
  await page.getByRole('tab', { name: 'Endpoints' }).click();
  await page.locator('.endpoint-item', { hasText: 'Office' }).click();
  await page.getByRole('heading', { name: 'Edit “Office”' }).waitFor();
  const secret = page.getByLabel('Secret (optional)');
  assert.equal(await secret.getAttribute('placeholder'), 'stored (type to replace)');
  const uri = page.getByLabel('Endpoint URI');
  // Another path on the same server: the secret still applies.
  await uri.fill('wss://gw.example.com/ssh2');
  assert.equal(await page.locator('#ep-secret-message').innerText(), '');
  // Another host: the form says the secret will not go there.
  await uri.fill('wss://evil.example/ssh');
  assert.match(await page.locator('#ep-secret-message').innerText(), /stored secret will not be sent there/);
  assert.equal(await secret.getAttribute('placeholder'), '');
  await screenshot(page, 'endpoints-secret-dropped');
  await page.getByRole('button', { name: 'Save' }).click();
  await waitFor('saved', () => settings.view().endpoints.find((e) => e.id === saved.value.id)?.uri === 'wss://evil.example/ssh');
  assert.equal(settings.view().endpoints.find((e) => e.id === saved.value.id)?.hasSecret, false, 'Save did not keep the secret');
});

test('endpoints: the Advanced section (keyboard), a bad pin and a bad proxy URL checked as typed, the advanced fields saved', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page, settings } = app;
  await page.getByRole('tab', { name: 'Endpoints' }).click();
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Corp gateway');
  await page.getByLabel('Endpoint URI').fill('wss://gw.example.com/ssh');

  // Closed by default for a new endpoint; the summary opens it from the keyboard.
  const details = page.locator('details.advanced');
  assert.equal((await details.getAttribute('open')) !== null, false);
  await page.locator('details.advanced > summary').focus();
  await page.keyboard.press('Enter');
  assert.equal((await details.getAttribute('open')) !== null, true);
  assert.equal(await page.getByLabel('System', { exact: true }).isChecked(), true, 'the system proxy is the default');
  assert.equal(await page.getByLabel('Proxy URL').isDisabled(), true);

  // A bad pin, as typed: the core's message.
  const pins = page.getByLabel('Pinned fingerprints (one per line)');
  await pins.fill('sha256/abc');
  await waitFor('pin message', async () => (await page.locator('#ep-pins-message').innerText()) === shown(() => parsePin('sha256/abc')));
  assert.equal(await pins.getAttribute('aria-invalid'), 'true');
  await pins.fill('nope');
  await waitFor('pin message', async () => (await page.locator('#ep-pins-message').innerText()) === shown(() => parsePin('nope')));
  // Pin only without a pin.
  await pins.fill('');
  await page.getByLabel('Pin only', { exact: false }).check();
  await waitFor(
    'pin only message',
    async () => (await page.locator('#ep-pin-only-message').innerText()) === 'Pin only needs a pinned fingerprint: the one the certificate must have.',
  );
  await pins.fill('sha256/abc');
  // Saving with a bad pin keeps the form and focuses the field.
  await page.getByRole('button', { name: 'Save' }).click();
  await waitFor('focus on the pins', async () => (await page.evaluate('document.activeElement.id')) === 'ep-pins');
  assert.equal(settings.view().endpoints.length, 1, 'nothing saved');

  // A custom proxy URL, checked by the core's parser.
  await page.getByLabel('Custom URL').check();
  const proxyUrl = page.getByLabel('Proxy URL');
  assert.equal(await proxyUrl.isDisabled(), false);
  await proxyUrl.fill('socks5://proxy.corp:1080');
  await waitFor(
    'proxy message',
    async () => (await page.locator('#ep-proxy-url-message').innerText()) === shown(() => parseProxyUrl('socks5://proxy.corp:1080')),
  );
  await proxyUrl.fill('http://proxy.corp:3128');

  const good = `sha256/${Buffer.alloc(32, 5).toString('base64')}`;
  const goodHex = Buffer.alloc(32, 6)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1:')
    .toUpperCase();
  await pins.fill(`${good}\n${goodHex}\n`);
  await page.getByLabel('CA file (optional)').fill('C:\\certs\\corp-ca.pem');
  await page.getByLabel('Use Windows certificate store').check();
  await page.getByLabel('Server name (SNI)').fill('gw.internal.example.com');
  await waitFor('no messages', async () => (await page.locator('details.advanced .field-message').allInnerTexts()).every((m) => m === ''));
  await screenshot(page, 'endpoints-advanced');
  await page.getByRole('button', { name: 'Save' }).click();
  await waitFor('saved', () => settings.view().endpoints.length === 2);
  const saved = settings.view().endpoints[1];
  assert.deepEqual(
    [saved.name, saved.proxy, saved.trust],
    [
      'Corp gateway',
      { url: 'http://proxy.corp:3128' },
      { caFile: 'C:\\certs\\corp-ca.pem', systemCa: true, pins: [good, goodHex], pinOnly: true, servername: 'gw.internal.example.com' },
    ],
  );

  // Back in the editor: open, with what was saved.
  await page.getByRole('heading', { name: 'Edit “Corp gateway”' }).waitFor();
  assert.equal((await details.getAttribute('open')) !== null, true, 'open when something in it is set');
  assert.equal(await page.getByLabel('Custom URL').isChecked(), true);
  assert.equal(await pins.inputValue(), `${good}\n${goodHex}`);
  assert.equal(await page.getByLabel('Pin only', { exact: false }).isChecked(), true);

  // Back to the system proxy and no trust: stored as such.
  await page.getByLabel('System', { exact: true }).check();
  await pins.fill('');
  await page.getByLabel('Pin only', { exact: false }).uncheck();
  await page.getByLabel('Use Windows certificate store').uncheck();
  await page.getByLabel('CA file (optional)').fill('');
  await page.getByLabel('Server name (SNI)').fill('');
  await page.getByRole('button', { name: 'Save' }).click();
  await waitFor('saved again', () => settings.view().endpoints[1].proxy === 'system');
  assert.deepEqual(settings.view().endpoints[1].trust, {});
  assert.deepEqual(app.problems, []);
});

test('status: start and stop reflected; a real tunnel shows in the connections table with its bytes; the log', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page, settings } = app;

  // An endpoint on the real WSSH server, made the active one through the UI.
  await page.getByRole('tab', { name: 'Endpoints' }).click();
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Test server');
  await page.getByLabel('Endpoint URI').fill(rig.wssh.uri);
  await page.getByLabel('Keepalive (seconds)').fill('0');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('button', { name: 'Use for the tunnel' }).click();
  await waitFor('active', () => settings.view().endpoints.find((e) => e.id === settings.view().activeEndpointId)?.name === 'Test server');

  // Listen on a free port, set through the Options form.
  const port = await freePort();
  await page.getByRole('tab', { name: 'Status' }).click();
  await page.getByLabel('Port', { exact: true }).fill(String(port));
  await page.getByRole('button', { name: 'Apply' }).click();
  await waitFor('listen port saved', () => settings.view().listen.port === port);

  await page.getByRole('button', { name: 'Start tunnel' }).click();
  await page.locator('#state-pill', { hasText: `Listening on 127.0.0.1:${port}` }).waitFor();
  assert.equal(await page.locator('#status-state').innerText(), 'Listening');
  assert.equal(await page.locator('#status-endpoint').innerText(), `Test server (${rig.wssh.uri})`);
  assert.equal(await page.locator('#header-toggle').innerText(), 'Stop');
  assert.match(await page.locator('#putty-settings').innerText(), new RegExp(`Proxy hostname: 127\\.0\\.0\\.1\\n\\s*Port: ${port}`));
  await page.getByRole('button', { name: 'Copy PuTTY settings' }).click();
  await waitFor('copied', () => app.copied.length === 1);
  assert.match(app.copied[0], /Proxy type: HTTP CONNECT/);
  await screenshot(page, 'status-listening');

  // A real tunnel: raw CONNECT through the proxy, the WSSH server, to the "sshd".
  const tunnel = await connectThroughProxy(port, `127.0.0.1:${rig.sshd.port}`, { allowHalfOpen: false });
  t.after(() => tunnel.socket.destroy());
  assert.equal(tunnel.status, 200);
  let received = '';
  tunnel.socket.on('data', (d) => (received += d));
  tunnel.socket.resume();
  const payload = 'x'.repeat(5000);
  tunnel.socket.write(payload);
  await waitFor('echo', () => received.length >= 5000 + 40);
  await page.locator('#state-pill', { hasText: 'Active' }).waitFor();

  await page.getByRole('tab', { name: 'Connections' }).click();
  const row = page.locator('#connections-table tbody tr[data-id]');
  await row.first().waitFor();
  await waitFor('bytes up in the table', async () => (await row.locator('td.up').getAttribute('title')) === '5000 bytes');
  const cells = await row.locator('td').allInnerTexts();
  assert.equal(cells[0], `127.0.0.1:${rig.sshd.port}`);
  assert.equal(cells[1], rig.wssh.uri);
  assert.equal(cells[3], '4.9 KiB');
  const down = Number((await row.locator('td.down').getAttribute('title'))!.split(' ')[0]);
  assert.ok(down >= 5000 + 40, `down ${down}`);
  await screenshot(page, 'connections');

  // Closing the tunnel empties the table.
  tunnel.socket.end();
  await page.locator('#connections-table tr.empty').waitFor();
  await page.locator('#state-pill', { hasText: 'Listening' }).waitFor();

  // The log: lines for what happened, filtered.
  await page.getByRole('tab', { name: 'Log' }).click();
  const lines = page.locator('#log-lines li');
  await waitFor('close line', async () => (await lines.allInnerTexts()).some((l) => /tunnel \d+ closed/.test(l)));
  await page.getByLabel('Filter').fill('tunnel 1 open');
  assert.equal(await lines.count(), 1);
  assert.match(await lines.first().innerText(), new RegExp(`tunnel 1 open: 127\\.0\\.0\\.1:${rig.sshd.port} via ${rig.wssh.uri.replace(/[/.]/g, '\\$&')}`));
  await page.getByLabel('Filter').fill('');
  await screenshot(page, 'log');

  await page.locator('#header-toggle').click();
  await page.locator('#state-pill', { hasText: 'Stopped' }).waitFor();
  assert.equal(app.controller.state().status, 'stopped');
  assert.deepEqual(app.problems, []);
});

test('Test: the SSH banner and the timing, or the reason', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page } = app;
  await page.getByRole('tab', { name: 'Endpoints' }).click();
  // Unsaved edits are what is tested.
  await page.getByLabel('Endpoint URI').fill(rig.wssh.uri);
  await page.getByLabel('SSH host to reach').fill(`127.0.0.1:${rig.sshd.port}`);
  await page.getByRole('button', { name: 'Test' }).click();
  const result = page.locator('.test-result');
  await result.locator('.banner').waitFor();
  assert.equal(await result.locator('.banner').innerText(), 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3');
  assert.match(await result.innerText(), /tunnel open in \d+ ms, banner after \d+ ms/);
  await screenshot(page, 'endpoints-test-ok');

  await page.getByLabel('SSH host to reach').fill('db1.lan');
  await page.getByLabel('SSH host to reach').press('Enter');
  await result.locator('.reason').waitFor();
  assert.match(await result.locator('.reason').innerText(), /^refused by the WSSH server \(403 Forbidden/);
  await screenshot(page, 'endpoints-test-failed');
  assert.equal(app.settings.view().endpoints[0].uri, 'ws://localhost:4567/ssh', 'testing does not save');
});

test('Export PuTTY session writes the .reg file', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page } = app;
  await page.getByLabel('Session name').fill('db1 via WSSH');
  await page.getByLabel('SSH host', { exact: true }).fill('db1.lan');
  await page.getByRole('button', { name: 'Export PuTTY session…' }).click();
  const result = page.locator('.export-result');
  await result.filter({ hasText: 'Saved' }).waitFor();
  const file = (await result.innerText()).match(/^Saved (.*\.reg)\./)![1];
  const text = fs.readFileSync(file).subarray(2).toString('utf16le');
  assert.match(text, /\[HKEY_CURRENT_USER\\Software\\SimonTatham\\PuTTY\\Sessions\\db1%20via%20WSSH\]/);
  assert.match(text, /"ProxyPort"=dword:00000c32\r\n"ProxyLocalhost"=dword:00000001/);
  assert.equal(path.basename(file), 'PuTTY session db1 via WSSH.reg');

  await page.getByLabel('SSH host', { exact: true }).fill('bad host!');
  await page.getByRole('button', { name: 'Export PuTTY session…' }).click();
  await result.filter({ hasText: 'Not exported' }).waitFor();
});

test('status: the local proxy sign-in, on for a Remote Desktop session, its user, reveal and copy of the password, turned off (issue 10)', async (t) => {
  const app = await open(t, { sharedReason: 'this is a Remote Desktop session (RDP-Tcp#2), so other people may use this computer' });
  if (!app) return;
  const { page, settings, api } = app;
  await page.getByRole('tab', { name: 'Status' }).click();
  const why = page.locator('#proxy-auth-why');
  await why.filter({ hasText: 'On automatically: this is a Remote Desktop session (RDP-Tcp#2)' }).waitFor();
  assert.equal(await page.getByLabel('Clients must sign in').inputValue(), 'auto');
  const password = ((await api.revealLocalProxyPassword()) as { ok: true; value: string }).value;
  const user = settings.localProxyCredential().user;
  assert.equal(await page.locator('#proxy-auth-user').innerText(), user);
  assert.equal(await page.locator('#proxy-auth-password').innerText(), '••••••••');
  const putty = await page.locator('#putty-settings').innerText();
  assert.match(putty, new RegExp(`Username: ${user}`));
  assert.ok(!putty.includes(password), 'the PuTTY settings on screen hide the password');
  assert.match(await page.locator('#proxy-auth-on').innerText(), /Connection › Proxy, enter this Username and Password/);
  await screenshot(page, 'status-proxy-sign-in');

  await page.getByRole('button', { name: 'Reveal password' }).click();
  await page.locator('#proxy-auth-password', { hasText: password }).waitFor();
  await page.getByRole('button', { name: 'Copy password' }).click();
  await waitFor('password copied', () => app.copied.includes(password));
  await page.getByRole('button', { name: 'Copy PuTTY settings' }).click();
  await waitFor('settings copied', () => app.copied.some((c) => c.includes(`Username: ${user}`) && c.includes(`Password: ${password}`)));

  // A new password: asked first (Cancel changes nothing), then made; the user stays, the shown one is hidden again.
  const confirm = page.getByRole('group', { name: 'Make a new password' });
  await page.getByRole('button', { name: 'New password…' }).click();
  await confirm.waitFor();
  assert.match(await confirm.innerText(), /are refused until they have the new one/);
  assert.equal(await page.evaluate('document.activeElement.textContent'), 'Make a new password', 'the confirmation has the focus');
  await screenshot(page, 'status-proxy-new-password');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'hidden' });
  assert.equal(settings.localProxyCredential().password, password, 'Cancel: the same password');
  await page.getByRole('button', { name: 'New password…' }).click();
  await confirm.getByRole('button', { name: 'Make a new password' }).click();
  await page.locator('#proxy-auth-on').filter({ hasText: 'New password made. Give it to every other client that signs in.' }).waitFor();
  assert.equal(await page.evaluate('document.activeElement.id'), 'proxy-auth-renew', 'the focus is back on the button');
  const renewed = settings.localProxyCredential();
  assert.equal(renewed.user, user);
  assert.notEqual(renewed.password, password);
  assert.equal(await page.locator('#proxy-auth-password').innerText(), '••••••••');
  await page.getByRole('button', { name: 'Reveal password' }).click();
  await page.locator('#proxy-auth-password', { hasText: renewed.password }).waitFor();

  await page.getByLabel('Clients must sign in').selectOption('off');
  await waitFor('saved off', () => settings.view().localProxyAuth === 'off');
  await why.filter({ hasText: 'Turned off in the settings' }).waitFor();
  assert.equal(await page.locator('#proxy-auth-on').isVisible(), false);
  await page.locator('#putty-settings').filter({ hasNotText: 'Username' }).waitFor();
});

test('status: on a one-user desktop the proxy sign-in is off automatically, and the view says plainly what Automatic does not see (issue 24)', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page } = app;
  await page.getByRole('tab', { name: 'Status' }).click();
  const why = page.locator('#proxy-auth-why');
  await why.filter({ hasText: 'Off automatically: this is not a Remote Desktop session' }).waitFor();
  assert.match(await why.innerText(), /fast user switching, over SSH or as a service .* choose On if anyone else uses this computer/);
  assert.deepEqual(await page.getByLabel('Clients must sign in').locator('option').allInnerTexts(), [
    'Automatic (on in a Remote Desktop session only)',
    'On',
    'Off',
  ]);
  assert.equal(await page.locator('#proxy-auth-on').isVisible(), false);
  assert.doesNotMatch(await page.locator('#putty-settings').innerText(), /Username|Password/);
});

test('a port already in use: the error state, its reason, and a notice', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page, settings } = app;
  const blocker = await startInProcessServer();
  t.after(() => blocker.server.close());
  settings.update({ listen: { host: '127.0.0.1', port: blocker.port } });
  await page.locator('#header-toggle').click();
  await page.locator('#state-pill', { hasText: 'Error' }).waitFor();
  const reason = `port ${blocker.port} on 127.0.0.1 is already in use by another program (another WSSH or proxy?): stop it or change the listen port`;
  assert.equal(await page.locator('#status-reason').innerText(), reason);
  assert.match(await page.locator('.notice').innerText(), /Cannot start the tunnel/);
  await screenshot(page, 'status-error');
});

test('settings: two refreshes overlap and the older one is answered last; the view keeps the newer settings (issue 18)', async (t) => {
  // While `holding`, each answer waits in `held` until the test lets it through: a main process that
  // answers the first refresh late, after the second one was answered.
  let holding = false;
  const held: Array<() => void> = [];
  const app = await open(t, { answer: () => (holding ? new Promise<void>((resolve) => held.push(resolve)) : undefined) });
  if (!app) return;
  const { page, settings } = app;
  await page.getByRole('tab', { name: 'Status' }).click();
  // Never listened on: the tunnel stays stopped; the ports only have to differ from each other and from the default.
  const [older, newer] = [3131, 3132];

  holding = true;
  assert.ok(settings.update({ listen: { host: '127.0.0.1', port: older } }).ok);
  await waitFor('the first refresh waiting for an answer', () => held.length > 0);
  holding = false;
  assert.ok(settings.update({ listen: { host: '127.0.0.1', port: newer } }).ok);
  const port = page.getByLabel('Port', { exact: true });
  await waitFor('the second refresh shown', async () => (await port.inputValue()) === String(newer));

  for (const release of held.splice(0)) release();
  await settled(page);
  assert.equal(held.length, 0, 'nothing held back any more');
  assert.equal(await port.inputValue(), String(newer), 'the listen port of the newer settings');
  const putty = await page.locator('#putty-settings').innerText();
  assert.match(putty, new RegExp(`\\b${newer}\\b`));
  assert.doesNotMatch(putty, new RegExp(`\\b${older}\\b`));
  assert.deepEqual(app.problems, []);
});

test('keyboard: tabs by arrow keys; dark scheme and 200% scale render', async (t) => {
  const app = await open(t, { viewport: { width: 640, height: 720 }, deviceScaleFactor: 2, colorScheme: 'dark' });
  if (!app) return;
  const { page } = app;
  await page.getByRole('tab', { name: 'Status' }).focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate('document.activeElement.id'), 'tab-endpoints');
  assert.equal(await page.locator('#panel-endpoints').isVisible(), true);
  await page.keyboard.press('End');
  assert.equal(await page.evaluate('document.activeElement.id'), 'tab-log');
  await page.keyboard.press('Home');
  assert.equal(await page.evaluate('document.activeElement.id'), 'tab-status');
  const csp = await page.evaluate(`document.querySelector('meta[http-equiv="Content-Security-Policy"]').content`);
  assert.match(String(csp), /^default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'none'/);
  const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
  assert.equal(bg, 'rgb(23, 24, 27)', 'the dark palette applies');
  // Nothing overflows sideways at this size: the layout wraps instead.
  const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  assert.equal(overflow, 0);
  await screenshot(page, 'status-dark-200');
  await page.keyboard.press('ArrowRight');
  await screenshot(page, 'endpoints-dark-200');
  assert.equal(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'), 0);
});

test('the page loads from file:// as Electron loads it, under its CSP, without errors', async (t) => {
  if (!rig.browser) {
    requireProgram(t, 'chromium', ['/usr/bin/chromium']);
    return;
  }
  const fileUrl = pathToFileURL(path.resolve(__dirname, '..', '..', '..', 'app', 'renderer', 'index.html')).href;
  const app = await openBridgedApp(rig.browser, fileUrl, tempDir(t));
  t.after(() => app.close());
  assert.equal(await app.page.locator('#state-pill').innerText(), 'Stopped');
  assert.equal(await app.page.evaluate('getComputedStyle(document.querySelector("nav")).display'), 'flex', 'the stylesheet applied');
  assert.deepEqual(app.problems, []);
});

test("connections: a real transfer shows its rate up and down, the total and the last minute's chart", async (t) => {
  const app = await open(t, { viewport: { width: 1000, height: 640 } });
  if (!app) return;
  const { page, api, settings } = app;
  const saved = await api.saveEndpoint({ name: 'Test server', uri: rig.wssh.uri, user: '', keepaliveSec: 0 });
  assert.ok(saved.ok);
  await api.selectEndpoint(saved.value.id);
  await api.updateSettings({ listen: { host: '127.0.0.1', port: await freePort() } });
  const state = await api.startTunnel();
  assert.equal(state.status, 'listening', state.reason);

  // A real tunnel through the proxy and the WSSH server to the echoing "sshd",
  // kept busy: 64 KiB every 50 ms up, and the same back down.
  const tunnel = await connectThroughProxy(state.listen.port, `127.0.0.1:${rig.sshd.port}`);
  t.after(() => tunnel.socket.destroy());
  assert.equal(tunnel.status, 200);
  let received = 0;
  tunnel.socket.on('data', (d: Buffer) => (received += d.length));
  tunnel.socket.resume();
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const pump = setInterval(() => {
    // Never more than 1 MiB in flight: the echo keeps up, the rate stays steady.
    if (sent - received < 1024 * 1024) {
      tunnel.socket.write(chunk);
      sent += chunk.length;
    }
  }, 50);
  t.after(() => clearInterval(pump));

  await page.getByRole('tab', { name: 'Connections' }).click();
  const row = page.locator('#connections-table tbody tr[data-id]');
  await row.first().waitFor();
  // The rate cells show a non-zero rate for this tunnel while it runs, beside its totals.
  await waitFor('a rate up in the table', async () => Number(await row.locator('td.rate-up').getAttribute('data-rate')) > 100 * 1024, 15_000);
  await waitFor('a rate down in the table', async () => Number(await row.locator('td.rate-down').getAttribute('data-rate')) > 100 * 1024, 15_000);
  assert.match(await row.locator('td.rate-up').innerText(), /^\d+(\.\d)? (KiB|MiB)\/s$/);
  // The summary: one tunnel and the total rate; the chart has several samples.
  const summary = page.locator('#traffic-summary');
  assert.match(await summary.innerText(), /^1 open tunnel · total ↑ \d+(\.\d)? (KiB|MiB)\/s ↓ \d+(\.\d)? (KiB|MiB)\/s$/);
  await waitFor('eight samples in the chart', async () => Number(await page.locator('#traffic-chart').getAttribute('data-samples')) >= 8, 20_000);
  const points = await page.locator('#traffic-chart polyline.rate-up').getAttribute('points');
  assert.ok((points ?? '').split(' ').length >= 8, `chart points: ${points}`);
  // The tray tooltip's line, from the same sample.
  assert.match(trayTooltip(app.controller.state(), app.controller.traffic()), /\n1 open tunnel, ↑ \d+(\.\d)? (KiB|MiB)\/s ↓ \d+(\.\d)? (KiB|MiB)\/s$/);
  await screenshot(page, 'connections-traffic');

  // Once the transfer stops, the rate falls to zero while the tunnel stays open.
  clearInterval(pump);
  await waitFor('the rate back to zero', async () => (await row.locator('td.rate-up').getAttribute('data-rate')) === '0', 15_000);
  await waitFor('every byte sent counted up', async () => (await row.locator('td.up').getAttribute('title')) === `${sent} bytes`, 5000);
  assert.equal(settings.view().listen.port, state.listen.port);
  assert.deepEqual(app.problems, []);
});

test('saved sessions: listed from a real registry (Wine), switched to the proxy and back in one click each', { timeout: 300_000 }, async (t) => {
  if (!rig.browser) {
    requireProgram(t, 'chromium', ['/usr/bin/chromium']);
    return;
  }
  const win = await startWine(t);
  if (!win) return;
  const reg = wineRegRunner(win);
  const add = async (key: string, values: Array<[string, string, string]>) => {
    for (const [name, type, data] of values) {
      const r = await reg.run(['add', key, '/v', name, '/t', type, '/d', data, '/f']);
      assert.equal(r.code, 0, r.stdout);
    }
  };
  const putty = 'HKCU\\Software\\SimonTatham\\PuTTY\\Sessions';
  await add(`${putty}\\db1%20via%20office`, [
    ['HostName', 'REG_SZ', 'db1.lan'],
    ['PortNumber', 'REG_DWORD', '22'],
  ]);
  await add(`${putty}\\build%20farm`, [
    ['HostName', 'REG_SZ', 'build-7.lan'],
    ['PortNumber', 'REG_DWORD', '2222'],
    ['ProxyMethod', 'REG_DWORD', '3'],
    ['ProxyHost', 'REG_SZ', '10.0.0.5'],
    ['ProxyPort', 'REG_DWORD', '3128'],
  ]);
  await add('HKCU\\Software\\Martin Prikryl\\WinSCP 2\\Sessions\\Work/files%20server', [
    ['HostName', 'REG_SZ', 'files.lan'],
    ['ProxyMethod', 'REG_DWORD', '2'],
    ['ProxyHost', 'REG_SZ', 'socks.corp'],
    ['ProxyPort', 'REG_DWORD', '1080'],
  ]);
  const app = await openBridgedApp(rig.browser, rig.site.url, tempDir(t), { reg, viewport: { width: 1000, height: 1400 } });
  t.after(() => app.close());
  const { page } = app;

  const writes = () => reg.calls.filter((c) => c[0] !== 'query').length;
  const writesAtStart = writes();
  const table = page.locator('table.sessions[data-client="putty"]');
  await table.waitFor();
  assert.deepEqual(await page.locator('table.sessions caption').allInnerTexts(), ['PuTTY', 'WinSCP'], 'KiTTY is not installed: not listed');
  const db1 = table.locator('tr[data-key="db1%20via%20office"]');
  assert.deepEqual(await db1.locator('td').allInnerTexts(), ['db1 via office', 'db1.lan', 'direct (no proxy)', 'Use this proxy']);
  assert.deepEqual(await table.locator('tr[data-key="build%20farm"] td').allInnerTexts(), [
    'build farm',
    'build-7.lan:2222',
    'HTTP proxy 10.0.0.5:3128',
    'Use this proxy',
  ]);
  assert.equal(await page.locator('table.sessions[data-client="winscp"] td.session-name').innerText(), 'Work/files server');
  assert.equal(writes(), writesAtStart, 'listing writes nothing');

  await db1.getByRole('button', { name: 'Use this proxy: PuTTY session db1 via office' }).click();
  await page.locator('#session-result', { hasText: 'PuTTY session "db1 via office" now goes through this app\'s proxy.' }).waitFor();
  await db1.locator('td.route', { hasText: "this app's proxy" }).waitFor();
  assert.equal(await db1.getByRole('button').innerText(), 'Switch back');
  const values = await reg.run(['query', `${putty}\\db1%20via%20office`]);
  assert.match(values.stdout, /ProxyMethod\s+REG_DWORD\s+0x3/);
  assert.match(values.stdout, new RegExp(`ProxyPort\\s+REG_DWORD\\s+0x${(3122).toString(16)}`));
  await screenshot(page, 'status-sessions');

  await db1.getByRole('button', { name: 'Switch back: PuTTY session db1 via office' }).click();
  await page.locator('#session-result', { hasText: 'has its own proxy settings back' }).waitFor();
  await db1.locator('td.route', { hasText: 'direct (no proxy)' }).waitFor();
  const restored = await reg.run(['query', `${putty}\\db1%20via%20office`]);
  assert.doesNotMatch(restored.stdout, /Proxy/, 'the values it did not have are gone again');
  assert.deepEqual(app.problems, []);
});
