// Where the tray app's stored secrets may go (issue 24): only where the user
// agreed to send them. Each test is an attack on real sockets, a hostile
// proxy on loopback (test/fixtures/hostileProxy.ts) that writes down every
// credential it is sent, reached through the app's own paths: the editor's
// Test and Save, the system proxy's answer, a profile imported as a link
// would be, an update from a profile. The Windows sign-in is the stand-in
// kerberos module's token (test/fixtures/standInKerberos.ts), as SSPI would
// make it; a DOMAIN\user password goes as Basic over http:// only when
// allowed. (The whole
// attack of an imported profile that pins the attacker's certificate and
// reads the gateway's secret inside TLS: test/e2e/app/profileImport.test.ts.)

import { standInToken, tokensMade } from '../fixtures/standInKerberos';
import { test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { formatProfile, type Profile } from '../../src/core/dial/profile';
import { createAppApi } from '../../src/main/window/appApi';
import type { EndpointInput, EndpointView, WsshApi } from '../../src/shared/ipc';
import { openTestController, startBannerServer, startInProcessServer } from '../fixtures/appHarness';
import { startHostileProxy } from '../fixtures/hostileProxy';

/** The app's API over fresh settings; the system proxy answers `systemAnswer` (a PAC-style string). */
async function app(t: TestContext, systemAnswer = 'DIRECT') {
  const { settings, controller, log } = await openTestController(t);
  t.after(() => controller.stop(0));
  const api = createAppApi({
    settings,
    controller,
    log,
    clipboard: { writeText: () => {} },
    chooseSavePath: async () => undefined,
    testOptions: { resolveSystemProxy: async () => systemAnswer, timeoutMs: 5000 },
  }) as unknown as WsshApi;
  return { api, settings, log };
}

/** What the editor sends for a saved endpoint left as it is: no secret typed (the stored ones stand). */
function asEdited(e: EndpointView, change: Partial<EndpointInput> = {}): EndpointInput {
  return { id: e.id, name: e.name, uri: e.uri, user: e.user, keepaliveSec: e.keepaliveSec, proxy: e.proxy, proxyAuth: e.proxyAuth, trust: e.trust, ...change };
}

async function saved(api: WsshApi, input: EndpointInput): Promise<EndpointView> {
  const outcome = await api.saveEndpoint(input);
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return outcome.value;
}

test('the proxy password stays with its proxy and user: Test with an edited proxy URL or user sends it nowhere; Save drops it', async (t) => {
  const mine = await startHostileProxy(t, { offer: ['Basic realm="corp"'] });
  const other = await startHostileProxy(t, { offer: ['Basic realm="corp"'] });
  const { api } = await app(t);
  const endpoint = await saved(api, {
    name: 'Corp',
    uri: 'ws://gw.example.test/ssh',
    user: '',
    keepaliveSec: 0,
    proxy: { url: mine.url },
    proxyAuth: { mode: 'password', user: 'bob' },
    proxySecret: 'proxy-pw',
  });
  assert.equal(endpoint.hasProxySecret, true);

  // The editor with the proxy URL changed (the password field still says "stored"), then Test.
  await api.testEndpoint({ endpoint: asEdited(endpoint, { proxy: { url: other.url } }), target: 'db1' });
  assert.ok(other.seen.length > 0, 'the test went through the edited proxy');
  assert.deepEqual(
    other.credentials().filter((c) => c.includes('proxy-pw')),
    [],
    'the password saved for the other proxy is not sent to this one',
  );
  // The same proxy, another user typed: the password was bob's.
  await api.testEndpoint({ endpoint: asEdited(endpoint, { proxyAuth: { mode: 'password', user: 'mallory' } }), target: 'db1' });
  assert.deepEqual(
    mine.credentials().filter((c) => c.includes('proxy-pw')),
    [],
    "bob's password is not sent for mallory",
  );

  // Saved with the other proxy: the password is not kept for it.
  const moved = await saved(api, asEdited(endpoint, { proxy: { url: other.url } }));
  assert.equal(moved.hasProxySecret, false, 'dropped on Save');
  // Unchanged, it stays.
  const again = await saved(api, {
    ...asEdited(moved, { proxy: { url: mine.url } }),
    proxySecret: 'proxy-pw',
  });
  assert.equal((await saved(api, asEdited(again))).hasProxySecret, true, 'kept while the proxy and user stay');
});

test('a proxy the system settings (or their PAC script) chose gets no Basic before it asks; after its 407, the password', async (t) => {
  const chosen = await startHostileProxy(t, { offer: ['Basic realm="corp"'] });
  const { api } = await app(t, `PROXY 127.0.0.1:${chosen.port}`);
  const endpoint = await saved(api, {
    name: 'Corp',
    uri: 'ws://gw.example.test/ssh',
    user: '',
    keepaliveSec: 0,
    proxy: 'system',
    proxyAuth: { mode: 'password', user: 'bob' },
    proxySecret: 'proxy-pw',
  });
  await api.testEndpoint({ endpoint: asEdited(endpoint), target: 'db1' });
  assert.equal(chosen.seen[0]?.authorization, undefined, 'the first CONNECT carries no credentials');
  assert.deepEqual(chosen.credentials(), ['Basic bob:proxy-pw'], 'sent once the proxy asked for Basic');
});

const profile = (change: Partial<Profile>): string =>
  formatProfile({
    name: 'Office gateway',
    uri: 'ws://gw.example.test/ssh',
    proxy: 'system',
    trust: { ca: [], pins: [], pinOnly: false },
    ...change,
  });

test("an imported profile's proxy does not get the Windows sign-in until the user allows it; the system's proxy does", async (t) => {
  const attacker = await startHostileProxy(t, { offer: ['Negotiate'] });
  const { api } = await app(t, `PROXY 127.0.0.1:${attacker.port}`);
  const imported = await api.importProfile({ text: profile({ proxy: { url: attacker.url } }), source: 'a wssh:// link', mode: 'add' });
  assert.ok(imported.ok, JSON.stringify(imported));
  const result = await api.testEndpoint({ endpoint: asEdited(imported.value), target: 'db1' });
  assert.ok(attacker.seen.length > 0, 'the test reached the proxy');
  assert.deepEqual(
    attacker.credentials().filter((c) => c.startsWith('Negotiate')),
    [],
    'no Negotiate token for the proxy of an imported profile',
  );
  assert.ok(!result.ok);
  assert.equal(
    result.reason,
    `the HTTP proxy at ${attacker.url} wants Negotiate (407 Proxy Authentication Required): your Windows sign-in (Negotiate) goes only to a proxy ` +
      `that the system's settings chose or that you approved, so it was not sent: ` +
      `tick "Send my Windows sign-in to this proxy" under "Proxy sign-in", if you trust this proxy`,
  );
  // Saved as it is (another field edited), it is still not approved.
  const edited = await saved(api, asEdited(imported.value, { keepaliveSec: 15 }));
  assert.equal(edited.proxyWindowsSignIn, false);

  // The same proxy as the system's answer: the system configured it, so the sign-in goes (the stand-in is there).
  const before = tokensMade.length;
  await api.testEndpoint({ endpoint: asEdited(imported.value, { proxy: 'system' }), target: 'db1' });
  assert.equal(tokensMade.length, before + 1, 'a token was made for the proxy the system named');
  assert.ok(attacker.credentials().some((c) => c.startsWith('Negotiate ')));

  // Approved in words by the user: from then on it goes to that proxy, and only to it.
  const approved = await saved(api, asEdited(edited, { proxyWindowsSignIn: true }));
  assert.equal(approved.proxyWindowsSignIn, true);
  await api.testEndpoint({ endpoint: asEdited(approved), target: 'db1' });
  assert.equal(tokensMade.length, before + 2, 'sent once approved');
  const elsewhere = await startHostileProxy(t, { offer: ['Negotiate'] });
  const moved = await saved(api, asEdited(approved, { proxy: { url: elsewhere.url } }));
  assert.equal(moved.proxyWindowsSignIn, false, 'the approval stays with its proxy');
  await api.testEndpoint({ endpoint: asEdited(moved), target: 'db1' });
  assert.deepEqual(elsewhere.credentials(), []);
});

test("control: an approved proxy that takes the stand-in's Negotiate carries a real Test to an SSH banner", async (t) => {
  const wssh = await startInProcessServer();
  const banner = await startBannerServer();
  t.after(async () => {
    await wssh.server.close();
    await banner.close();
  });
  const proxy = await startHostileProxy(t, { offer: ['Negotiate'], accept: (a) => a === `Negotiate ${standInToken('HTTP@127.0.0.1')}` });
  const { api } = await app(t);
  const endpoint = await saved(api, { name: 'Mine', uri: wssh.uri, user: '', keepaliveSec: 0, proxy: { url: proxy.url }, proxyWindowsSignIn: true });
  const result = await api.testEndpoint({ endpoint: asEdited(endpoint), target: `127.0.0.1:${banner.port}` });
  assert.ok(result.ok, JSON.stringify(result));
});

test('a profile update keeps each stored secret only where it would go where it went before, and the preview says which it drops', async (t) => {
  const { api } = await app(t);
  const pinA = `sha256/${Buffer.alloc(32, 1).toString('base64')}`;
  const pinB = `sha256/${Buffer.alloc(32, 2).toString('base64')}`;
  const proxy = { url: 'http://proxy.corp.example:3128' };
  const mine = await saved(api, {
    name: 'Mine',
    uri: 'wss://gw.example.test/ssh',
    user: 'alice',
    secret: 's3cret',
    keepaliveSec: 30,
    proxy,
    proxyAuth: { mode: 'password', user: 'bob' },
    proxySecret: 'proxy-pw',
    proxyWindowsSignIn: true,
    trust: { pins: [pinA], clientPfx: '/home/alice/alice.pfx' },
    clientPassphrase: 'pfx-pw',
  });
  const text = (change: Partial<Profile>) =>
    profile({ uri: 'wss://gw.example.test/ssh', user: 'alice', proxy, trust: { ca: [], pins: [pinA], pinOnly: false }, ...change });
  const update = async (change: Partial<Profile>) => {
    const preview = await api.previewProfile(text(change), 'a wssh:// link');
    assert.ok(preview.ok && preview.value.existing, JSON.stringify(preview));
    const done = await api.importProfile({ text: text(change), source: 'a wssh:// link', mode: 'update', updateId: mine.id });
    assert.ok(done.ok, JSON.stringify(done));
    return { dropped: preview.value.existing.dropped, e: done.value };
  };
  const kept = (e: EndpointView) => [e.hasSecret, e.trust.clientPfx !== undefined, e.hasClientPassphrase, e.hasProxySecret, e.proxyWindowsSignIn];

  const same = await update({ name: 'Office' });
  assert.deepEqual(same.dropped, []);
  assert.deepEqual(kept(same.e), [true, true, true, true, true], 'the same user, proxy and trust: everything stays');

  const pinned = await update({ trust: { ca: [], pins: [pinB], pinOnly: true } });
  assert.deepEqual(pinned.dropped, [
    'the stored secret of alice (the TLS trust changes)',
    'the client certificate /home/alice/alice.pfx and its passphrase (the TLS trust changes)',
  ]);
  assert.deepEqual(
    kept(pinned.e),
    [false, false, false, true, true],
    'another trust: the secret and the certificate go; the proxy sign-in stays with its proxy',
  );

  const other = await update({ proxy: { url: 'http://proxy.sender.example:8080' }, trust: { ca: [], pins: [pinB], pinOnly: true } });
  assert.deepEqual(other.dropped, [
    'the proxy sign-in as bob and its password (saved for http://proxy.corp.example:3128)',
    'your approval to send your Windows sign-in to http://proxy.corp.example:3128',
  ]);
  assert.deepEqual(kept(other.e), [false, false, false, false, false]);
  assert.deepEqual(other.e.proxyAuth, { mode: 'windows' });
});

test('a DOMAIN\\user password as Basic over plain http://: not without the tick, and the error says where it is', async (t) => {
  const basicOnly = await startHostileProxy(t, { offer: ['Basic realm="corp"'] });
  const { api } = await app(t);
  const endpoint = await saved(api, {
    name: 'Corp',
    uri: 'ws://gw.example.test/ssh',
    user: '',
    keepaliveSec: 0,
    proxy: { url: basicOnly.url },
    proxyAuth: { mode: 'password', user: 'CORP\\alice' },
    proxySecret: 'windows-pw',
  });
  const result = await api.testEndpoint({ endpoint: asEdited(endpoint), target: 'db1' });
  assert.deepEqual(basicOnly.credentials(), []);
  assert.ok(!result.ok);
  assert.match(
    result.reason,
    /CORP\\alice's password goes as Basic over plain http:\/\/ only if you allow it .*: use an https:\/\/ proxy URL, or tick "Allow my Windows password as Basic over plain http:\/\/" under "Proxy sign-in"$/,
  );
  const allowed = await saved(api, asEdited(endpoint, { proxyAuth: { mode: 'password', user: 'CORP\\alice', clearBasic: true } }));
  assert.equal(allowed.hasProxySecret, true, 'the same proxy and user: the password stays');
  await api.testEndpoint({ endpoint: asEdited(allowed), target: 'db1' });
  assert.deepEqual(basicOnly.credentials(), ['Basic CORP\\alice:windows-pw']);
});
