// The tray app's local proxy credential: when it is on (the setting, a Remote
// Desktop session), that it is sealed in the settings file, that the real
// proxy then answers 407 without it and 200 with it, and that PuTTY's copied
// settings and exported session carry it only when it is on.

import { test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { LocalProxyAuthMode } from '../../src/shared/ipc';
import { createAppApi, wireAppEvents } from '../../src/main/window/appApi';
import { LogBook } from '../../src/main/window/logBook';
import { decideProxyAuth, generateProxyCredential, localProxyAuth, sharedMachineReason } from '../../src/main/settings/localProxySignIn';
import { TunnelController } from '../../src/main/tunnel/tunnelController';
import { settingsControllerOptions } from '../../src/main/appStartup';
import { freePort } from '../../scripts/harness/ports';
import { tempDir } from '../fixtures/tmp';
import { openTestSettings, startBannerServer, startInProcessServer, testCipher } from '../fixtures/appHarness';
import { connectThroughProxy, waitFor } from '../fixtures/tunnel';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test('a Remote Desktop session is a shared machine; the console and other systems are not', () => {
  assert.match(sharedMachineReason({ SESSIONNAME: 'RDP-Tcp#3' }, 'win32')!, /Remote Desktop session \(RDP-Tcp#3\)/);
  assert.ok(sharedMachineReason({ SESSIONNAME: 'rdp-tcp#0' }, 'win32'), 'case as cmd.exe compares it');
  assert.equal(sharedMachineReason({ SESSIONNAME: 'Console' }, 'win32'), undefined);
  assert.equal(sharedMachineReason({}, 'win32'), undefined, 'no SESSIONNAME (a service, a scheduled task)');
  assert.equal(sharedMachineReason({ SESSIONNAME: 'RDP-Tcp#3' }, 'linux'), undefined, 'only Windows names its sessions so');
});

test('off / on / automatic', () => {
  const shared = 'this is a Remote Desktop session (RDP-Tcp#1), so other people may use this computer';
  assert.deepEqual(decideProxyAuth('auto', undefined).on, false);
  assert.equal(
    decideProxyAuth('auto', undefined).why,
    'off automatically: this is not a Remote Desktop session. Other people signed in to this computer by fast user switching, ' +
      'over SSH or as a service are not seen, and can tunnel through the proxy with your endpoint: choose On if anyone else uses this computer',
  );
  assert.equal(decideProxyAuth('auto', shared).on, true);
  assert.match(decideProxyAuth('auto', shared).why, /on automatically: this is a Remote Desktop session/);
  for (const reason of [undefined, shared]) {
    assert.equal(decideProxyAuth('on', reason).on, true);
    assert.match(decideProxyAuth('on', reason).why, /turned on in the settings/);
    assert.equal(decideProxyAuth('off', reason).on, false);
    assert.match(decideProxyAuth('off', reason).why, /turned off in the settings/);
  }
});

test('generated credentials are random and safe for HTTP Basic and PuTTY', () => {
  const a = generateProxyCredential();
  const b = generateProxyCredential();
  assert.notEqual(a.user, b.user);
  assert.notEqual(a.password, b.password);
  for (const c of [a, b]) {
    assert.match(c.user, /^wssh-[A-Za-z0-9_-]{8}$/);
    assert.match(c.password, /^[A-Za-z0-9_-]{24}$/, '18 random bytes, no ":"');
  }
});

test('the password is sealed in the settings file, kept across restarts, and the mode is a setting', async (t) => {
  const dir = tempDir(t);
  const cipher = testCipher();
  const { settings } = await openTestSettings(dir, cipher);
  assert.equal(settings.view().localProxyAuth, 'auto', 'the default');
  const auth = localProxyAuth(settings, undefined);
  assert.equal(auth.credential(), undefined, 'off on a one-user desktop');
  assert.deepEqual(auth.view(), { mode: 'auto', on: false, why: decideProxyAuth('auto', undefined).why, user: null });

  assert.ok(settings.update({ localProxyAuth: 'on' }).ok);
  const credential = auth.credential()!;
  assert.ok(credential);
  assert.equal(auth.view().user, credential.user);
  const file = fs.readFileSync(settings.path, 'utf8');
  assert.ok(!file.includes(credential.password), 'the password is not in the file in clear');
  assert.ok(file.includes(credential.user), 'the user name is (it is shown anyway)');
  const stored = JSON.parse(file).localProxyAuth;
  assert.equal(stored.mode, 'on');
  assert.equal(cipher.decryptString(Buffer.from(stored.password, 'base64')), credential.password);

  const reopened = (await openTestSettings(dir, cipher)).settings;
  assert.equal(reopened.view().localProxyAuth, 'on');
  assert.deepEqual(localProxyAuth(reopened, undefined).credential(), credential, 'the same credential after a restart: PuTTY sessions keep working');

  assert.ok(reopened.update({ localProxyAuth: 'off' }).ok);
  assert.equal(localProxyAuth(reopened, 'shared').credential(), undefined, 'off wins over a shared machine');
  assert.ok(reopened.update({ localProxyAuth: 'auto' }).ok);
  assert.deepEqual(localProxyAuth(reopened, 'shared').credential(), credential, 'automatic, shared machine: on, the same one');

  const before = fs.readFileSync(reopened.path, 'utf8');
  const bad = reopened.update({ localProxyAuth: 'sometimes' as LocalProxyAuthMode, startAtLogin: true });
  assert.deepEqual(bad, { ok: false, error: 'the proxy sign-in setting must be off, on or automatic' });
  assert.equal(fs.readFileSync(reopened.path, 'utf8'), before, 'a bad patch changes nothing');
});

test('without the OS key store the credential lives in memory only, never in the file', async (t) => {
  const { settings } = await openTestSettings(tempDir(t), testCipher(false));
  settings.update({ localProxyAuth: 'on' });
  const auth = localProxyAuth(settings, undefined);
  const credential = auth.credential()!;
  assert.deepEqual(auth.credential(), credential, 'stable while the app runs');
  const file = fs.readFileSync(settings.path, 'utf8');
  assert.ok(!file.includes(credential.password));
  assert.equal(JSON.parse(file).localProxyAuth.password, undefined);
});

async function setup(t: TestContext, sharedReason?: string) {
  const dir = tempDir(t);
  const wssh = await startInProcessServer();
  const target = await startBannerServer();
  const cipher = testCipher();
  const { settings } = await openTestSettings(dir, cipher);
  const saved = settings.saveEndpoint({ name: 'Test server', uri: wssh.uri, user: '', keepaliveSec: 0 });
  assert.ok(saved.ok);
  settings.selectEndpoint(saved.value.id);
  settings.update({ listen: { host: '127.0.0.1', port: await freePort() } });
  const proxyAuth = localProxyAuth(settings, sharedReason);
  const log = new LogBook();
  const controller = new TunnelController({
    ...settingsControllerOptions(settings, log),
    drainMs: 0,
    proxyCredential: () => proxyAuth.credential(),
  });
  const copied: string[] = [];
  const api = createAppApi({
    settings,
    controller,
    log,
    localProxyAuth: proxyAuth,
    clipboard: { writeText: (text) => copied.push(text) },
    chooseSavePath: async (name) => path.join(dir, name),
  });
  const unwire = wireAppEvents({ settings, controller, log }, () => {});
  t.after(async () => {
    unwire();
    await controller.stop(0);
    await wssh.server.close();
    await target.close();
  });
  return { dir, cipher, settings, controller, api, log, copied, target, proxyAuth };
}

test('on a Remote Desktop session the proxy asks for the credential: 407 without, 200 with', async (t) => {
  const { controller, target, proxyAuth, log } = await setup(t, sharedMachineReason({ SESSIONNAME: 'RDP-Tcp#2' }, 'win32'));
  const state = await controller.start();
  assert.equal(state.status, 'listening');
  const { user, password } = proxyAuth.credential()!;
  const hostPort = `127.0.0.1:${target.port}`;

  const none = await connectThroughProxy(state.listen.port, hostPort);
  assert.equal(none.status, 407);
  assert.match(none.head, /Proxy-Authenticate: Basic/i);
  const wrong = await connectThroughProxy(state.listen.port, hostPort, { headers: { 'Proxy-Authorization': basic(user, 'not-it') } });
  assert.equal(wrong.status, 407);

  const good = await connectThroughProxy(state.listen.port, hostPort, { headers: { 'Proxy-Authorization': basic(user, password) }, allowHalfOpen: false });
  t.after(() => good.socket.destroy());
  assert.equal(good.status, 200);
  let received = '';
  good.socket.on('data', (d) => (received += d));
  good.socket.resume();
  await waitFor('the banner through the signed-in tunnel', () => received.includes('SSH-2.0-'));
  assert.ok(log.lines().some((l) => l.text.includes(`clients must sign in to the proxy as ${user}`)));
  assert.ok(!log.lines().some((l) => l.text.includes(password)), 'the password is never logged');
});

test('on a one-user desktop it is off, and the start of the tunnel says that every account can use it', async (t) => {
  const { controller, log } = await setup(t, undefined);
  assert.equal((await controller.start()).status, 'listening');
  assert.ok(
    log.lines().some((l) => l.text === 'clients need not sign in to the proxy: every account on this computer can use it (Status view: Local proxy sign-in)'),
  );
});

test('turning it on and off while running restarts the proxy with or without it', async (t) => {
  const { controller, settings, target, proxyAuth } = await setup(t);
  const state = await controller.start();
  const hostPort = `127.0.0.1:${target.port}`;
  const open = await connectThroughProxy(state.listen.port, hostPort, { allowHalfOpen: false });
  open.socket.destroy();
  assert.equal(open.status, 200, 'automatic on a one-user desktop: no sign-in');

  settings.update({ localProxyAuth: 'on' });
  await waitFor('407 after turning it on', async () => {
    const r = await connectThroughProxy(state.listen.port, hostPort, { allowHalfOpen: false }).catch(() => undefined);
    r?.socket.destroy();
    return r?.status === 407;
  });
  const { user, password } = proxyAuth.credential()!;
  const good = await connectThroughProxy(state.listen.port, hostPort, { headers: { 'Proxy-Authorization': basic(user, password) }, allowHalfOpen: false });
  good.socket.destroy();
  assert.equal(good.status, 200);

  settings.update({ localProxyAuth: 'off' });
  await waitFor('200 without credentials after turning it off', async () => {
    const r = await connectThroughProxy(state.listen.port, hostPort, { allowHalfOpen: false }).catch(() => undefined);
    r?.socket.destroy();
    return r?.status === 200;
  });
});

test('PuTTY: the copied settings and the .reg export carry the credential only when it is on', async (t) => {
  const { api, settings, dir, proxyAuth } = await setup(t);
  const off = await api.getPuttySettings();
  assert.doesNotMatch(off.text, /Username|Password/);
  assert.equal(off.masked, undefined);
  assert.deepEqual(await api.revealLocalProxyPassword(), { ok: false, error: 'proxy sign-in is off: the proxy needs no password' });
  const offExport = await api.exportPuttySession({ sessionName: 'off', target: 'db1.lan' });
  assert.equal(offExport.status, 'saved');
  const offReg = fs.readFileSync(path.join(dir, 'PuTTY session off.reg')).subarray(2).toString('utf16le');
  assert.doesNotMatch(offReg, /ProxyUsername|ProxyPassword/);

  settings.update({ localProxyAuth: 'on' });
  const { user, password } = proxyAuth.credential()!;
  const on = await api.getPuttySettings();
  assert.match(on.text, new RegExp(`\\n {2}Username: ${user}\\n {2}Password: ${password}$`));
  assert.equal(on.username, user);
  assert.ok(on.masked && !on.masked.includes(password) && on.masked.includes(`Username: ${user}`), 'the screen text hides the password');
  assert.deepEqual(await api.revealLocalProxyPassword(), { ok: true, value: password });
  assert.deepEqual(await api.getLocalProxyAuth(), { mode: 'on', on: true, why: 'turned on in the settings', user });
  const onExport = await api.exportPuttySession({ sessionName: 'on', target: 'db1.lan' });
  assert.equal(onExport.status, 'saved');
  const onReg = fs.readFileSync(path.join(dir, 'PuTTY session on.reg')).subarray(2).toString('utf16le');
  assert.ok(onReg.includes(`"ProxyLocalhost"=dword:00000001\r\n"ProxyUsername"="${user}"\r\n"ProxyPassword"="${password}"\r\n`), onReg);
});

test('a new password: the same user, the new password sealed and kept across restarts; the running proxy takes only the new one', async (t) => {
  const { api, settings, controller, target, proxyAuth, dir, cipher, log } = await setup(t);
  assert.deepEqual(await api.renewLocalProxyPassword(), { ok: false, error: 'proxy sign-in is off: the proxy needs no password' });
  assert.equal(JSON.parse(fs.readFileSync(settings.path, 'utf8')).localProxyAuth, undefined, 'refused: no credential made or written');

  settings.update({ localProxyAuth: 'on' });
  const state = await controller.start();
  const hostPort = `127.0.0.1:${target.port}`;
  const old = proxyAuth.credential()!;
  const renewed = await api.renewLocalProxyPassword();
  assert.deepEqual(renewed, { ok: true, value: { updated: [] } }, 'no saved sessions here');
  const fresh = proxyAuth.credential()!;
  assert.equal(fresh.user, old.user, 'PuTTY keeps its user name');
  assert.notEqual(fresh.password, old.password);
  assert.deepEqual(await api.revealLocalProxyPassword(), { ok: true, value: fresh.password });
  const file = fs.readFileSync(settings.path, 'utf8');
  assert.ok(!file.includes(fresh.password) && !file.includes(old.password), 'neither password is in the file in clear');
  assert.deepEqual((await openTestSettings(dir, cipher)).settings.localProxyCredential(), fresh, 'the new one after a restart');

  // The tunnel restarts with it: the old password gets 407, the new one 200.
  await waitFor('the old password refused', async () => {
    const r = await connectThroughProxy(state.listen.port, hostPort, {
      headers: { 'Proxy-Authorization': basic(old.user, old.password) },
      allowHalfOpen: false,
    }).catch(() => undefined);
    r?.socket.destroy();
    return r?.status === 407;
  });
  const good = await connectThroughProxy(state.listen.port, hostPort, {
    headers: { 'Proxy-Authorization': basic(fresh.user, fresh.password) },
    allowHalfOpen: false,
  });
  good.socket.destroy();
  assert.equal(good.status, 200);
  assert.ok(log.lines().some((l) => l.text.includes(`a new proxy sign-in password was made for ${fresh.user}`)));
  assert.ok(log.lines().some((l) => l.text === 'a new proxy sign-in password: restarting the tunnel'));
  assert.ok(!log.lines().some((l) => l.text.includes(fresh.password) || l.text.includes(old.password)), 'no password is logged');
});

test('a new password without the OS key store replaces the one in memory, and the file still holds none', async (t) => {
  const { settings } = await openTestSettings(tempDir(t), testCipher(false));
  settings.update({ localProxyAuth: 'on' });
  const auth = localProxyAuth(settings, undefined);
  const old = auth.credential()!;
  const fresh = auth.renew()!;
  assert.equal(fresh.user, old.user);
  assert.notEqual(fresh.password, old.password);
  assert.deepEqual(auth.credential(), fresh);
  assert.equal(JSON.parse(fs.readFileSync(settings.path, 'utf8')).localProxyAuth.password, undefined);
});

test('a new password while the key store is away: the old sealed one is taken out of the file, so it cannot come back', async (t) => {
  const dir = tempDir(t);
  const real = testCipher();
  let keyStore = true;
  const cipher = { ...real, isEncryptionAvailable: () => keyStore };
  const { settings } = await openTestSettings(dir, cipher);
  settings.update({ localProxyAuth: 'on' });
  const leaked = settings.localProxyCredential();
  assert.ok(JSON.parse(fs.readFileSync(settings.path, 'utf8')).localProxyAuth.password, 'sealed in the file');

  keyStore = false; // a locked keyring, for now
  const fresh = settings.renewLocalProxyPassword();
  assert.notEqual(fresh.password, leaked.password);
  assert.deepEqual(settings.localProxyCredential(), fresh);
  assert.deepEqual(JSON.parse(fs.readFileSync(settings.path, 'utf8')).localProxyAuth, { mode: 'on' });

  keyStore = true;
  const next = (await openTestSettings(dir, cipher)).settings.localProxyCredential();
  assert.notEqual(next.password, leaked.password, 'the leaked password is gone for good');
});
