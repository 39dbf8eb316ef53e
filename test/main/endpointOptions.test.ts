// An endpoint's advanced settings end to end, with real objects: the system
// proxy (a resolver of Electron's `session.resolveProxy` shape returning a
// PAC answer) pointing at a real HTTP CONNECT proxy in this process, DIRECT,
// a custom proxy URL; and TLS trust in front of a real WSSH server (a CA file,
// a pin, pin only), with certificate problems surfacing as the error state in
// the core's words.

import { test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { parseEndpoint } from '../../src/shared/endpoint';
import { LogBook } from '../../src/main/logBook';
import { TunnelController } from '../../src/main/tunnelController';
import { settingsControllerOptions } from '../../src/main/appStartup';
import { testEndpoint } from '../../src/main/endpointTest';
import { advancedProblems, proxyChooser, proxyQueryUrl } from '../../src/main/endpointOptions';
import type { EndpointTrust, ProxySetting } from '../../src/shared/ipc';
import { openTestSettings, startBannerServer, startInProcessServer, testCipher } from '../fixtures/appHarness';
import { connectThroughProxy, waitFor } from '../fixtures/tunnel';
import { freePort } from '../../scripts/harness/ports';
import { fingerprintOf, makeCertificates, makeSelfSigned } from '../../scripts/harness/tls';
import { tempDir } from '../fixtures/tmp';
import { requireProgram } from '../../scripts/harness/programs';

/** A minimal HTTP CONNECT proxy: records each CONNECT authority and pipes the bytes. */
async function startConnectProxy(t: TestContext): Promise<{ port: number; connects: string[] }> {
  const connects: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => client.destroy());
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))));
  return { port: (server.address() as net.AddressInfo).port, connects };
}

/** TLS in front of a plain WSSH server, with the given certificate. */
async function startTlsFront(t: TestContext, backendPort: number, certFile: string, keyFile: string): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (clear) => {
    const backend = net.connect(backendPort, '127.0.0.1');
    for (const s of [clear, backend]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (clear.destroy(), backend.destroy()));
    }
    clear.pipe(backend).pipe(clear);
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))));
  return (server.address() as net.AddressInfo).port;
}

async function setup(t: TestContext, uri: (wsshPort: number) => string, advanced: { proxy?: ProxySetting; trust?: EndpointTrust }, answer?: (url: string) => string) {
  const wssh = await startInProcessServer();
  const target = await startBannerServer();
  t.after(async () => {
    await wssh.server.close();
    await target.close();
  });
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  const saved = settings.saveEndpoint({ name: 'Corp', uri: uri(wssh.port), user: '', keepaliveSec: 0, ...advanced });
  assert.ok(saved.ok, JSON.stringify(saved));
  settings.selectEndpoint(saved.value.id);
  settings.update({ listen: { host: '127.0.0.1', port: await freePort() } });
  const asked: string[] = [];
  const log = new LogBook();
  const controller = new TunnelController({
    ...settingsControllerOptions(settings, log),
    drainMs: 0,
    resolveSystemProxy: async (url) => {
      asked.push(url);
      if (!answer) throw new Error('no system proxy in this test');
      return answer(url);
    },
  });
  const problems: string[] = [];
  controller.on('problem', (title, text) => problems.push(`${title}: ${text}`));
  t.after(() => controller.stop(0));
  return { wssh, target, settings, controller, asked, problems, id: saved.value.id };
}

/** A CONNECT through the controller's proxy to the banner server: the status, and the banner when 200. */
async function tunnel(t: TestContext, port: number, targetPort: number): Promise<{ status: number; banner: string }> {
  const reply = await connectThroughProxy(port, `127.0.0.1:${targetPort}`, { allowHalfOpen: false });
  t.after(() => reply.socket.destroy());
  if (reply.status !== 200) return { status: reply.status, banner: '' };
  let received = '';
  reply.socket.on('data', (d) => (received += d));
  reply.socket.resume();
  await waitFor('banner', () => received.includes('\r\n'));
  return { status: 200, banner: received.split('\r\n')[0] };
}

test('proxy "system": the PAC answer "PROXY host:port; DIRECT" sends the tunnel through that proxy', async (t) => {
  const proxy = await startConnectProxy(t);
  const app = await setup(t, (p) => `ws://127.0.0.1:${p}/ssh`, { proxy: 'system' }, () => `PROXY 127.0.0.1:${proxy.port}; DIRECT`);
  const { listen } = await app.controller.start();
  const result = await tunnel(t, listen.port, app.target.port);
  assert.deepEqual(result, { status: 200, banner: 'SSH-2.0-OpenSSH_9.2p1 WsshTest' });
  assert.deepEqual(proxy.connects, [`127.0.0.1:${app.wssh.port}`], 'the endpoint was reached through the proxy');
  assert.deepEqual(app.asked, [`http://127.0.0.1:${app.wssh.port}/ssh`], 'the system was asked about the endpoint, per tunnel');
  await tunnel(t, listen.port, app.target.port);
  assert.equal(app.asked.length, 2);
  assert.equal(proxy.connects.length, 2);
});

test('proxy "system" answering DIRECT goes direct; "none" never asks; a custom URL is used as given', async (t) => {
  const proxy = await startConnectProxy(t);
  let answer = 'DIRECT';
  const app = await setup(t, (p) => `ws://127.0.0.1:${p}/ssh`, {}, () => answer);
  assert.equal(app.settings.view().endpoints.find((e) => e.id === app.id)!.proxy, 'system', 'the default');
  const { listen } = await app.controller.start();
  assert.equal((await tunnel(t, listen.port, app.target.port)).status, 200);
  assert.equal(app.asked.length, 1);
  assert.deepEqual(proxy.connects, [], 'DIRECT: no proxy');

  const save = (p: ProxySetting) => {
    const e = app.settings.view().endpoints.find((x) => x.id === app.id)!;
    assert.ok(app.settings.saveEndpoint({ ...e, proxy: p }).ok);
    app.controller.endpointChanged();
  };
  answer = `PROXY 127.0.0.1:${proxy.port}`;
  save('none');
  assert.equal((await tunnel(t, listen.port, app.target.port)).status, 200);
  assert.equal(app.asked.length, 1, '"none" does not ask the system');
  assert.deepEqual(proxy.connects, []);

  save({ url: `http://127.0.0.1:${proxy.port}` });
  assert.equal((await tunnel(t, listen.port, app.target.port)).status, 200);
  assert.deepEqual(proxy.connects, [`127.0.0.1:${app.wssh.port}`]);
  assert.equal(app.asked.length, 1);

  // A system answer WSSH cannot use is the tunnel's error, in the core's words.
  answer = 'SOCKS5 127.0.0.1:1080';
  save('system');
  assert.equal((await tunnel(t, listen.port, app.target.port)).status, 502);
  const error = await waitFor('error state', () => (app.controller.state().status === 'error' ? app.controller.state() : undefined));
  assert.match(error!.reason!, /the system proxy setting "SOCKS5 127\.0\.0\.1:1080" has no HTTP proxy and no DIRECT/);
});

test('the query URL and the chooser: wss:// is asked about as https://, without credentials', async () => {
  assert.equal(proxyQueryUrl(parseEndpoint('wss://u:p@gw.example.com/ssh')), 'https://gw.example.com/ssh');
  const asked: string[] = [];
  const choose = proxyChooser('system', async (url) => (asked.push(url), 'HTTPS secure.corp:443; DIRECT'));
  // The whole answer, in order: the next entry is tried when a proxy cannot be reached.
  assert.deepEqual(await choose(parseEndpoint('wss://gw.example.com:8443/ssh')), ['https://secure.corp:443', false]);
  assert.deepEqual(asked, ['https://gw.example.com:8443/ssh']);
  assert.equal(await proxyChooser('system')(parseEndpoint('wss://gw/ssh')), undefined, 'no resolver: the environment decides');
  await assert.rejects(proxyChooser('system', async () => Promise.reject(new Error('boom')))(parseEndpoint('wss://gw/ssh')), /cannot read the system proxy settings: boom/);
});

test('trust: unknown issuer is the error state; the CA file fixes it; a wrong pin is a pin mismatch; an unreadable CA file stops the start', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  const dir = tempDir(t);
  const certs = await makeCertificates(dir);
  let frontPort = 0;
  const app = await setup(t, (p) => `wss://127.0.0.1:${(frontPort = p)}/ssh`, { proxy: 'none' });
  // The endpoint URI was made with the WSSH port; put TLS in front of it and point the endpoint there.
  const tlsPort = await startTlsFront(t, frontPort, certs.serverCert, certs.serverKey);
  const edit = (trust: EndpointTrust) => {
    const e = app.settings.view().endpoints.find((x) => x.id === app.id)!;
    const saved = app.settings.saveEndpoint({ ...e, uri: `wss://127.0.0.1:${tlsPort}/ssh`, trust });
    assert.ok(saved.ok, JSON.stringify(saved));
  };
  edit({});
  const { listen } = await app.controller.start();
  assert.equal((await tunnel(t, listen.port, app.target.port)).status, 502);
  const unknown = await waitFor('error state', () => (app.controller.state().status === 'error' ? app.controller.state() : undefined));
  assert.equal(unknown!.reason, `127.0.0.1:${app.target.port}: TLS: the certificate of wss://127.0.0.1:${tlsPort}/ssh is from an unknown issuer (UNABLE_TO_VERIFY_LEAF_SIGNATURE); trust its CA`);

  // The company CA as a file: the running tunnel restarts with it and works.
  edit({ caFile: certs.caCert });
  app.controller.endpointChanged();
  await waitFor('restarted', () => app.controller.state().status === 'listening');
  assert.deepEqual(await tunnel(t, app.controller.state().listen.port, app.target.port), { status: 200, banner: 'SSH-2.0-OpenSSH_9.2p1 WsshTest' });

  // The CA plus a pin of some other certificate: refused as a pin mismatch.
  const other = `sha256/${Buffer.alloc(32, 1).toString('base64')}`;
  edit({ caFile: certs.caCert, pins: [other] });
  app.controller.endpointChanged();
  await waitFor('restarted', () => app.controller.state().status === 'listening');
  assert.equal((await tunnel(t, app.controller.state().listen.port, app.target.port)).status, 502);
  const mismatch = await waitFor('error state', () => (app.controller.state().status === 'error' ? app.controller.state() : undefined));
  assert.equal(
    mismatch!.reason,
    `127.0.0.1:${app.target.port}: TLS: the certificate of wss://127.0.0.1:${tlsPort}/ssh does not match the pin: the certificate's fingerprint is ${fingerprintOf(certs.serverCert).base64}, not the pinned ${other}`,
  );

  // The right pin works.
  edit({ caFile: certs.caCert, pins: [fingerprintOf(certs.serverCert).hex] });
  app.controller.endpointChanged();
  await waitFor('restarted', () => app.controller.state().status === 'listening');
  assert.equal((await tunnel(t, app.controller.state().listen.port, app.target.port)).status, 200);

  // A CA file that is gone: the start fails and says which file and why.
  await app.controller.stop(0);
  const gone = path.join(dir, 'gone.pem');
  edit({ caFile: gone });
  const failed = await app.controller.start();
  assert.equal(failed.status, 'error');
  assert.equal(failed.running, false);
  assert.equal(failed.reason, `Corp: cannot read the CA file ${gone}: no such file`);
  assert.deepEqual(app.problems.at(-1), `Cannot start the tunnel: ${failed.reason}`);
});

test('"Test" uses the endpoint’s trust and proxy: pin only accepts a self-signed server; a wrong pin says so', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  const dir = tempDir(t);
  const self = await makeSelfSigned(dir, 'self');
  const wssh = await startInProcessServer();
  const sshd = await startBannerServer('SSH-2.0-Pinned');
  t.after(async () => {
    await wssh.server.close();
    await sshd.close();
  });
  const tlsPort = await startTlsFront(t, wssh.port, self.cert, self.key);
  const endpoint = parseEndpoint(`wss://localhost:${tlsPort}/ssh`);
  const proxy = await startConnectProxy(t);
  const target = `127.0.0.1:${sshd.port}`;

  const plain = await testEndpoint(endpoint, target, { proxy: 'none', timeoutMs: 3000 });
  assert.deepEqual(plain.ok ? '' : plain.reason, `TLS: the certificate of wss://localhost:${tlsPort}/ssh is from an unknown issuer (DEPTH_ZERO_SELF_SIGNED_CERT); trust its CA`);

  const pinned = await testEndpoint(endpoint, target, {
    trust: { pins: [fingerprintOf(self.cert).base64], pinOnly: true },
    proxy: 'system',
    resolveSystemProxy: async () => `PROXY 127.0.0.1:${proxy.port}`,
    timeoutMs: 3000,
  });
  assert.ok(pinned.ok, JSON.stringify(pinned));
  assert.equal(pinned.banner, 'SSH-2.0-Pinned');
  assert.deepEqual(proxy.connects, [`localhost:${tlsPort}`]);

  const wrong = `sha256/${Buffer.alloc(32, 2).toString('base64')}`;
  const mismatch = await testEndpoint(endpoint, target, { trust: { pins: [wrong], pinOnly: true }, proxy: 'none', timeoutMs: 3000 });
  assert.equal(mismatch.ok, false);
  assert.match((mismatch as { reason: string }).reason, /^TLS: the certificate of wss:\/\/localhost:\d+\/ssh does not match the pin: the certificate's fingerprint is sha256\//);
});

test('a proxy URL with a password is accepted: the store moves the password to the encrypted sign-in', () => {
  // (The move itself: test/main/proxySignIn.test.ts.)
  assert.equal(advancedProblems({ url: 'http://alice:s3cret@proxy.example.com:3128' }, {}).proxyUrl, undefined);
  assert.equal(advancedProblems({ url: 'http://alice@proxy.example.com:3128' }, {}).proxyUrl, undefined);
  assert.equal(advancedProblems({ url: 'http://proxy.example.com:3128' }, {}).proxyUrl, undefined);
});
