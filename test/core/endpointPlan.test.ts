// The one plan from an endpoint's settings to its dials (src/core/dial/endpointPlan.ts),
// which the CLI, the tray app and a profile all go through: each proxy source
// gives its decisions, the trust and certificate become the dialer's options,
// and a route skipped for the next is said once, in one sentence.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import { parseEndpoint } from '../../src/shared/endpoint';
import { parseTarget } from '../../src/shared/target';
import { TunnelError } from '../../src/core/tunnel/tunnelError';
import { dialRoutes } from '../../src/core/dial/proxyRoutes';
import { fallbackLine, planDial, proxyResolver, proxySourceOf, withProxyCredentials, type ProxySource } from '../../src/core/dial/endpointPlan';
import type { SystemProxy } from '../../src/core/upstream/systemProxy';

const endpoint = parseEndpoint('wss://gw.example.com:8443/ssh');
const alice = { mode: 'password', user: 'CORP\\alice', secret: 's3cret' } as const;

test('each proxy source gives its decision; a password sign-in goes into every proxy URL', async () => {
  const decide = (source: ProxySource, signIn?: Parameters<typeof proxyResolver>[1]) => proxyResolver(source, signIn)(endpoint);
  assert.equal(await decide({ kind: 'none' }), false, 'none: directly, whatever the environment says');
  assert.equal(await decide({ kind: 'environment' }), undefined, 'the environment: left to the dialer (HTTPS_PROXY, NO_PROXY)');
  assert.equal(await decide({ kind: 'url', url: 'http://proxy.corp:3128' }), 'http://proxy.corp:3128', 'a URL: as given');
  assert.equal(await decide({ kind: 'url', url: 'http://proxy.corp:3128' }, alice), 'http://CORP%5Calice:s3cret@proxy.corp:3128');
  assert.equal(await decide({ kind: 'url', url: 'http://proxy.corp:3128' }, { mode: 'windows' }), 'http://proxy.corp:3128', 'the Windows sign-in adds nothing');
  assert.deepEqual(
    await decide({ kind: 'url', url: 'http://proxy.corp:3128', windowsSignIn: false }),
    { url: 'http://proxy.corp:3128', rules: { windows: false } },
    "a profile's proxy the user has not approved: no Windows sign-in",
  );
  assert.deepEqual(
    await decide({ kind: 'url', url: 'http://proxy.corp:3128' }, { ...alice, clearBasic: true }),
    { url: 'http://CORP%5Calice:s3cret@proxy.corp:3128', rules: { clearBasicForDomainUser: true } },
    'the Windows password as Basic over http://, where the user allowed it',
  );

  const asked: string[] = [];
  const pac = { source: 'corp.pac', find: async (url: string) => (asked.push(url), 'PROXY a:1; SOCKS5 s:1080; DIRECT') };
  assert.deepEqual(await decide({ kind: 'pac', script: pac }), ['http://a:1', false], 'a PAC script: every usable entry, in order');
  assert.deepEqual(asked, ['https://gw.example.com:8443/ssh'], 'asked about the endpoint as the https:// URL it is to a proxy');
  assert.deepEqual(
    await decide({ kind: 'pac', script: pac }, alice),
    [{ url: 'http://CORP%5Calice:s3cret@a:1', rules: { preemptiveBasic: false } }, false],
    'with a password: put in, to be sent once the proxy asks (the PAC script, not the user, chose it)',
  );
  await assert.rejects(decide({ kind: 'pac', script: { source: 'socks.pac', find: async () => 'SOCKS5 s:1080' } }), (err: TunnelError) => {
    assert.equal(err.code, 'PROXY_CONFIG');
    assert.match(err.message, /the PAC file socks\.pac's answer "SOCKS5 s:1080" has no HTTP proxy and no DIRECT/);
    return true;
  });

  const registry: SystemProxy = { resolve: async () => ['http://manual.corp:8080', false], settings: async () => undefined };
  assert.deepEqual(
    await decide({ kind: 'system', registry }, alice),
    [{ url: 'http://CORP%5Calice:s3cret@manual.corp:8080', rules: { preemptiveBasic: false } }, false],
    'the registry: its routes, the sign-in only once a proxy the user did not name asks for it',
  );
  const offWindows: SystemProxy = { resolve: async () => undefined, settings: async () => undefined };
  assert.equal(await decide({ kind: 'system', registry: offWindows }), undefined, 'off Windows the system setting is the environment');

  const electron: string[] = [];
  const ask = async (url: string) => (electron.push(url), 'HTTPS secure.corp:443; DIRECT');
  assert.deepEqual(await decide({ kind: 'system', ask }), ['https://secure.corp:443', false], "the system's answer: every entry, in order");
  assert.deepEqual(electron, ['https://gw.example.com:8443/ssh']);
  await assert.rejects(decide({ kind: 'system', ask: async () => Promise.reject(new Error('boom')) }), (err: TunnelError) => {
    assert.equal(err.code, 'PROXY_CONFIG');
    assert.equal(err.message, 'cannot read the system proxy settings: boom');
    return true;
  });
  await assert.rejects(
    decide({ kind: 'system', ask: async () => 'SOCKS5 s:1080' }),
    /the system proxy setting "SOCKS5 s:1080" has no HTTP proxy and no DIRECT/,
  );

  assert.equal(withProxyCredentials('http://bob:x@p:1', alice), 'http://bob:x@p:1', 'a URL with its own credentials is left as it is');
  assert.equal(withProxyCredentials(false, alice), false);
});

test("the app's and a profile's proxy mode as a source: 'system' asks the system, or the environment without one", () => {
  const ask = async () => 'DIRECT';
  assert.deepEqual(proxySourceOf('none'), { kind: 'none' });
  assert.deepEqual(proxySourceOf({ url: 'http://p:1' }, ask), { kind: 'url', url: 'http://p:1' });
  assert.deepEqual(proxySourceOf('system', ask), { kind: 'system', ask });
  assert.deepEqual(proxySourceOf('system'), { kind: 'environment' });
});

test("the trust, the client certificate and the timeouts become the dialer's options; what is not set is left out", () => {
  const certificate = { cert: 'CERT', key: 'KEY', source: 'client.crt' };
  const plan = planDial({
    proxy: { kind: 'none' },
    trust: { ca: ['PEM'], systemCa: true, pin: ['sha256/x'], pinOnly: true, servername: 'gw.internal', clientCertificate: certificate },
    handshakeTimeoutMs: 5000,
  });
  assert.deepEqual(plan.dial, {
    ca: ['PEM'],
    systemCa: true,
    pin: ['sha256/x'],
    pinOnly: true,
    servername: 'gw.internal',
    clientCertificate: certificate,
    handshakeTimeoutMs: 5000,
  });
  assert.deepEqual(
    planDial({ proxy: { kind: 'none' }, trust: { ca: undefined, servername: undefined } }).dial,
    {},
    'nothing set, nothing passed (the dialer keeps its defaults)',
  );
  assert.equal(planDial({ proxy: { kind: 'none' }, keepaliveMs: 0 }).keepaliveMs, 0, "the keepalive for the tunnel's relay: 0 (off) kept");
  assert.equal(planDial({ proxy: { kind: 'none' } }).keepaliveMs, undefined, "none given: the relay's default");
  const log = () => {};
  const heard = planDial({ proxy: { kind: 'none' }, log }).dial;
  assert.equal(heard.log, log, 'the log hears the dialer too (Negotiate off)');
  assert.equal(typeof heard.onFallback, 'function');
});

test('the proxy source and sign-in may be asked at each dial (the app switches endpoints while running)', async () => {
  let current: ProxySource = { kind: 'url', url: 'http://a:1' };
  // None at first: the first dial goes without; the closure reads the current one at each dial.
  let signIn: typeof alice | undefined = undefined;
  const plan = planDial({ proxy: () => current, proxySignIn: () => signIn });
  assert.equal(await plan.resolveProxy(endpoint), 'http://a:1');
  signIn = alice;
  assert.equal(await plan.resolveProxy(endpoint), 'http://CORP%5Calice:s3cret@a:1');
  current = { kind: 'none' };
  assert.equal(await plan.resolveProxy(endpoint), false);
});

test('the fallback sentence: the reason, the next route, the one skipped; credentials hidden', () => {
  assert.equal(
    fallbackLine('http://u:pw@a:1', 'connection refused by the HTTP proxy at http://u:***@a:1', 'http://b:2'),
    'connection refused by the HTTP proxy at http://u:***@a:1; trying the next proxy, http://b:2 (http://u:***@a:1 skipped)',
  );
  assert.equal(fallbackLine('http://a:1', 'why', false), 'why; trying DIRECT (http://a:1 skipped)');
  assert.equal(
    fallbackLine('http://a:1', 'why', false, 'a direct connection'),
    'why; trying a direct connection (http://a:1 skipped)',
    "the app's word for it",
  );
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('a route that cannot be reached is said once, in that sentence, and the next one carries the tunnel', async (t: TestContext) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  t.after(() => new Promise((resolve) => wss.close(resolve)));
  const local = parseEndpoint(`ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}/ssh`);
  const down = await closedPort();
  const lines: string[] = [];
  const plan = planDial({
    proxy: { kind: 'pac', script: { source: 'x.pac', find: async () => `PROXY 127.0.0.1:${down}; DIRECT` } },
    log: (line) => lines.push(line),
  });
  const ws = await dialRoutes(local, parseTarget('db1.lan'), await plan.resolveProxy(local), plan.dial);
  ws.terminate();
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(
    lines[0],
    new RegExp(`^connection refused by the HTTP proxy at http://127\\.0\\.0\\.1:${down}.*; trying DIRECT \\(http://127\\.0\\.0\\.1:${down} skipped\\)$`),
  );
});
