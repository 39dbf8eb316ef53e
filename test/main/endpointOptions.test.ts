// An endpoint's advanced settings end to end, with real objects: the system
// proxy (a resolver of Electron's `session.resolveProxy` shape returning a
// PAC answer) pointing at a real HTTP CONNECT proxy in this process, DIRECT,
// a custom proxy URL. (TLS trust in front of a real WSSH server, with
// certificates openssl makes: test/e2e/app/trust.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEndpoint } from '../../src/shared/endpoint';
import { advancedProblems, proxyQueryUrl } from '../../src/main/settings/endpointOptions';
import { proxyResolver, proxySourceOf } from '../../src/core/dial/endpointPlan';
import type { ProxySetting } from '../../src/shared/ipc';
import { bannerThrough, startConnectProxy, startEndpointApp } from '../fixtures/appHarness';
import { waitFor } from '../fixtures/tunnel';

test('proxy "system": the PAC answer "PROXY host:port; DIRECT" sends the tunnel through that proxy', async (t) => {
  const proxy = await startConnectProxy(t);
  const app = await startEndpointApp(
    t,
    (p) => `ws://127.0.0.1:${p}/ssh`,
    { proxy: 'system' },
    () => `PROXY 127.0.0.1:${proxy.port}; DIRECT`,
  );
  const { listen } = await app.controller.start();
  const result = await bannerThrough(t, listen.port, app.target.port);
  assert.deepEqual(result, { status: 200, banner: 'SSH-2.0-OpenSSH_9.2p1 WsshTest' });
  assert.deepEqual(proxy.connects, [`127.0.0.1:${app.wssh.port}`], 'the endpoint was reached through the proxy');
  assert.deepEqual(app.asked, [`http://127.0.0.1:${app.wssh.port}/ssh`], 'the system was asked about the endpoint, per tunnel');
  await bannerThrough(t, listen.port, app.target.port);
  assert.equal(app.asked.length, 2);
  assert.equal(proxy.connects.length, 2);
});

test('proxy "system" answering DIRECT goes direct; "none" never asks; a custom URL is used as given', async (t) => {
  const proxy = await startConnectProxy(t);
  let answer = 'DIRECT';
  const app = await startEndpointApp(
    t,
    (p) => `ws://127.0.0.1:${p}/ssh`,
    {},
    () => answer,
  );
  assert.equal(app.settings.view().endpoints.find((e) => e.id === app.id)!.proxy, 'system', 'the default');
  const { listen } = await app.controller.start();
  assert.equal((await bannerThrough(t, listen.port, app.target.port)).status, 200);
  assert.equal(app.asked.length, 1);
  assert.deepEqual(proxy.connects, [], 'DIRECT: no proxy');

  const save = (p: ProxySetting) => {
    const e = app.settings.view().endpoints.find((x) => x.id === app.id)!;
    assert.ok(app.settings.saveEndpoint({ ...e, proxy: p }).ok);
    app.controller.endpointChanged();
  };
  answer = `PROXY 127.0.0.1:${proxy.port}`;
  save('none');
  assert.equal((await bannerThrough(t, listen.port, app.target.port)).status, 200);
  assert.equal(app.asked.length, 1, '"none" does not ask the system');
  assert.deepEqual(proxy.connects, []);

  save({ url: `http://127.0.0.1:${proxy.port}` });
  assert.equal((await bannerThrough(t, listen.port, app.target.port)).status, 200);
  assert.deepEqual(proxy.connects, [`127.0.0.1:${app.wssh.port}`]);
  assert.equal(app.asked.length, 1);

  // A system answer WSSH cannot use is the tunnel's error, in the core's words.
  answer = 'SOCKS5 127.0.0.1:1080';
  save('system');
  assert.equal((await bannerThrough(t, listen.port, app.target.port)).status, 502);
  const error = await waitFor('error state', () => (app.controller.state().status === 'error' ? app.controller.state() : undefined));
  assert.match(error!.reason!, /the system proxy setting "SOCKS5 127\.0\.0\.1:1080" has no HTTP proxy and no DIRECT/);
});

test('the query URL and the chooser: wss:// is asked about as https://, without credentials', async () => {
  assert.equal(proxyQueryUrl(parseEndpoint('wss://u:p@gw.example.com/ssh')), 'https://gw.example.com/ssh');
  const asked: string[] = [];
  const choose = proxyResolver(proxySourceOf('system', async (url) => (asked.push(url), 'HTTPS secure.corp:443; DIRECT')));
  // The whole answer, in order: the next entry is tried when a proxy cannot be reached.
  assert.deepEqual(await choose(parseEndpoint('wss://gw.example.com:8443/ssh')), ['https://secure.corp:443', false]);
  assert.deepEqual(asked, ['https://gw.example.com:8443/ssh']);
  assert.equal(await proxyResolver(proxySourceOf('system'))(parseEndpoint('wss://gw/ssh')), undefined, 'no resolver: the environment decides');
  await assert.rejects(
    proxyResolver(proxySourceOf('system', async () => Promise.reject(new Error('boom'))))(parseEndpoint('wss://gw/ssh')),
    /cannot read the system proxy settings: boom/,
  );
});

test('a proxy URL with a password is accepted: the store moves the password to the encrypted sign-in', () => {
  // (The move itself: test/main/proxySignIn.test.ts.)
  assert.equal(advancedProblems({ url: 'http://alice:s3cret@proxy.example.com:3128' }, {}).proxyUrl, undefined);
  assert.equal(advancedProblems({ url: 'http://alice@proxy.example.com:3128' }, {}).proxyUrl, undefined);
  assert.equal(advancedProblems({ url: 'http://proxy.example.com:3128' }, {}).proxyUrl, undefined);
});
