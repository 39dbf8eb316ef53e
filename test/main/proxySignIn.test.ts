// The tray app's part of finding and passing the proxy, with real objects:
// the system proxy's answer as a fallback list (`PROXY down; PROXY up;
// DIRECT`: the first proxy is not there, the second carries the tunnel), the
// proxy sign-in stored sealed and put into each proxy's URL (or nothing for
// the Windows sign-in), a user and password typed into a custom proxy URL
// moved to the sealed sign-in, the migration of a version 3 file, and where
// to fix a failure. (The client certificate of an endpoint, made by openssl:
// test/e2e/app/clientCertificate.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseEndpoint } from '../../src/shared/endpoint';
import { LogBook } from '../../src/main/window/logBook';
import { TunnelController, whereToFix } from '../../src/main/tunnel/tunnelController';
import { settingsControllerOptions } from '../../src/main/appStartup';
import { splitProxyCredentials, withProxyCredentials } from '../../src/main/settings/endpointOptions';
import { proxyResolver, proxySourceOf } from '../../src/core/dial/endpointPlan';
import { REFUSED_CLIENT_CERTIFICATE } from '../../src/core/dial/trust/clientCertificate';
import { migrateSettings } from '../../src/main/settings/settingsMigrations';
import { SETTINGS_VERSION } from '../../src/main/settings/settingsSchema';
import { openTestSettings, startBannerServer, startInProcessServer, testCipher } from '../fixtures/appHarness';
import { connectThroughProxy, waitFor } from '../fixtures/tunnel';
import { freePort } from '../../scripts/harness/ports';
import { tempDir } from '../fixtures/tmp';
import { startSignInProxy } from '../fixtures/signInProxy';

test("the system proxy's list: an unreachable first proxy is skipped; the sign-in goes to the one that answers", async (t) => {
  const wssh = await startInProcessServer();
  const target = await startBannerServer();
  t.after(async () => {
    await wssh.server.close();
    await target.close();
  });
  // It wants Basic CORP\\alice:pw, and records the Proxy-Authorization it got.
  const proxy = await startSignInProxy(t, 'CORP\\alice', 'pw');
  const down = await freePort();
  const dir = tempDir(t);
  const cipher = testCipher();
  const { settings } = await openTestSettings(dir, cipher);
  const saved = settings.saveEndpoint({
    name: 'Corp',
    uri: `ws://127.0.0.1:${wssh.port}/ssh`,
    user: '',
    keepaliveSec: 0,
    proxy: 'system',
    // This proxy takes Basic only, over plain http://: the user allowed the Windows password there.
    proxyAuth: { mode: 'password', user: 'CORP\\alice', clearBasic: true },
    proxySecret: 'pw',
  });
  assert.ok(saved.ok, JSON.stringify(saved));
  assert.deepEqual([saved.value.proxyAuth, saved.value.hasProxySecret], [{ mode: 'password', user: 'CORP\\alice', clearBasic: true }, true]);
  assert.ok(!fs.readFileSync(settings.path, 'utf8').includes('"pw"'), 'sealed on disk');
  settings.selectEndpoint(saved.value.id);
  settings.update({ listen: { host: '127.0.0.1', port: await freePort() } });
  const log = new LogBook();
  const controller = new TunnelController({
    ...settingsControllerOptions(settings, log),
    drainMs: 0,
    resolveSystemProxy: async () => `PROXY 127.0.0.1:${down}; PROXY 127.0.0.1:${proxy.port}; DIRECT`,
  });
  t.after(() => controller.stop(0));
  const { listen } = await controller.start();
  const reply = await connectThroughProxy(listen.port, `127.0.0.1:${target.port}`);
  t.after(() => reply.socket.destroy());
  assert.equal(reply.status, 200);
  // The core answers the proxy's 407 challenge with the sign-in's user and password.
  const basic = `Basic ${Buffer.from('CORP\\alice:pw').toString('base64')}`;
  assert.equal(
    proxy.auth.at(-1),
    basic,
    JSON.stringify(proxy.auth) +
      log
        .lines()
        .map((l) => l.text)
        .join('\n'),
  );
  assert.ok(
    proxy.auth.every((a) => a === undefined || a === basic),
    JSON.stringify(proxy.auth),
  );
  const lines = log.lines().map((l) => l.text);
  assert.ok(
    lines.some(
      (l) =>
        l.includes(`connection refused by the HTTP proxy at http://CORP%5Calice:***@127.0.0.1:${down}`) &&
        l.includes(`trying the next proxy, http://CORP%5Calice:***@127.0.0.1:${proxy.port}`),
    ),
    lines.join('\n'),
  );
  assert.ok(!lines.some((l) => l.includes(':pw@')), 'no password in the log');

  // The Windows sign-in: no credentials in the URL (the core signs in as the user); this proxy refuses.
  settings.saveEndpoint({ ...settings.view().endpoints.find((e) => e.id === saved.value.id)!, proxyAuth: { mode: 'windows' } });
  controller.endpointChanged();
  const refused = await connectThroughProxy(listen.port, `127.0.0.1:${target.port}`);
  t.after(() => refused.socket.destroy());
  assert.equal(refused.status, 502);
  assert.equal(proxy.auth.at(-1), undefined);
  const state = await waitFor('error state', () => (controller.state().status === 'error' ? controller.state() : undefined));
  assert.match(state!.reason!, /the HTTP proxy at http:\/\/127\.0\.0\.1:\d+ requires authentication/);
  assert.equal(state!.fix, 'Endpoints ▸ Corp ▸ Advanced ▸ Proxy sign-in');
});

test('credentials in a custom proxy URL move to the sealed sign-in; the chooser puts them back per dial', async (t) => {
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  const saved = settings.saveEndpoint({
    name: 'X',
    uri: 'wss://gw.example.com/ssh',
    user: '',
    keepaliveSec: 0,
    proxy: { url: 'http://CORP%5Calice:s3cret@proxy.corp:3128' },
  });
  assert.ok(saved.ok, JSON.stringify(saved));
  assert.deepEqual(
    [saved.value.proxy, saved.value.proxyAuth, saved.value.hasProxySecret],
    [{ url: 'http://proxy.corp:3128' }, { mode: 'password', user: 'CORP\\alice' }, true],
  );
  assert.ok(!fs.readFileSync(settings.path, 'utf8').includes('s3cret'));
  const active = settings.activeEndpoint();
  const resolved = settings.resolveInput({ ...saved.value });
  assert.ok(resolved.ok);
  assert.deepEqual(resolved.value.proxyAuth, { mode: 'password', user: 'CORP\\alice', secret: 's3cret' });
  assert.ok(active.ok);
  const choose = proxyResolver(proxySourceOf({ url: 'http://proxy.corp:3128' }), resolved.value.proxyAuth);
  assert.equal(await choose(parseEndpoint('wss://gw.example.com/ssh')), 'http://CORP%5Calice:s3cret@proxy.corp:3128');
  assert.deepEqual(
    await proxyResolver(
      proxySourceOf('system', async () => 'PROXY a:1; DIRECT'),
      { mode: 'windows' },
    )(parseEndpoint('wss://gw/ssh')),
    ['http://a:1', false],
  );
  assert.equal(
    withProxyCredentials('http://bob:x@p:1', { mode: 'password', user: 'a', secret: 'b' }),
    'http://bob:x@p:1',
    'a URL with its own credentials is left as it is',
  );
  assert.deepEqual(splitProxyCredentials('http://u@p:1'), { url: 'http://p:1', user: 'u', password: undefined });
  // A sign-in without a user is refused, with the field's message.
  const bad = settings.saveEndpoint({ ...saved.value, proxyAuth: { mode: 'password', user: ' ' } });
  assert.deepEqual(bad, { ok: false, error: 'give the proxy user (DOMAIN\\user for NTLM), or choose "Use my Windows sign-in"' });
});

test('version 3 migrates to 4 (and on): the Windows sign-in by default; a user in a custom proxy URL moves to the sign-in', async (t) => {
  const dir = tempDir(t);
  const v3 = {
    version: 3,
    endpoints: [
      { id: 'a', name: 'A', uri: 'wss://gw.example.com/ssh', user: '', secret: '', keepaliveSec: 25, proxy: 'system' },
      {
        id: 'b',
        name: 'B',
        uri: 'ws://lab/ssh',
        user: '',
        secret: '',
        keepaliveSec: 0,
        proxy: { url: 'http://CORP%5Cbob@proxy.corp:3128' },
        trust: { systemCa: true },
      },
      { id: 'c', name: 'C', uri: 'ws://lab/ssh', user: '', secret: '', keepaliveSec: 0, proxy: { url: 'http://proxy.corp:3128' } },
    ],
    activeEndpointId: 'b',
    listen: { host: '127.0.0.1', port: 3300 },
    startTunnelAtLaunch: true,
    startAtLogin: false,
  };
  fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(v3));
  const { settings, notices } = await openTestSettings(dir, testCipher());
  assert.deepEqual(notices, []);
  assert.equal(SETTINGS_VERSION, 5);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'settings.v3.json'), 'utf8')), v3, 'the old file is kept');
  const onDisk = JSON.parse(fs.readFileSync(path.join(dir, 'settings.json'), 'utf8'));
  assert.equal(onDisk.version, 5);
  // Version 5 adds resume (on) to each.
  assert.deepEqual(onDisk.endpoints, [
    { ...v3.endpoints[0], proxyAuth: { mode: 'windows' }, resume: true },
    { ...v3.endpoints[1], proxy: { url: 'http://proxy.corp:3128' }, proxyAuth: { mode: 'password', user: 'CORP\\bob', secret: '' }, resume: true },
    { ...v3.endpoints[2], proxyAuth: { mode: 'windows' }, resume: true },
  ]);
  assert.deepEqual(
    settings.view().endpoints.map((e) => [e.id, e.proxyAuth, e.hasProxySecret]),
    [
      ['a', { mode: 'windows' }, false],
      ['b', { mode: 'password', user: 'CORP\\bob' }, false],
      ['c', { mode: 'windows' }, false],
    ],
  );
  assert.equal(migrateSettings(v3, { sealSecret: () => '' }).settings.version, 5);
});

test('where to fix a failure', () => {
  assert.equal(whereToFix('the HTTP proxy at http://p:1 refused the credentials of "alice" (407)', 'Corp'), 'Endpoints ▸ Corp ▸ Advanced ▸ Proxy sign-in');
  assert.equal(
    whereToFix('connection refused by the HTTP proxy at http://p:1: is it running, and is the port right?', 'Corp'),
    'Endpoints ▸ Corp ▸ Advanced ▸ Proxy',
  );
  assert.equal(
    whereToFix('TLS: wss://gw requires a client certificate and none was given', 'Corp', REFUSED_CLIENT_CERTIFICATE),
    'Endpoints ▸ Corp ▸ Advanced ▸ Client certificate',
  );
  assert.equal(whereToFix('refused by the WSSH server (403 Forbidden)', 'Corp'), undefined);
});
