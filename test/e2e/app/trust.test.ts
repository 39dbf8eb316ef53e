// The app's TLS trust per endpoint against certificates openssl makes for
// this run, with real objects (test/fixtures/appHarness.ts): a certificate
// from an unknown CA is the error state with the reason and a notice, a CA
// file fixes it, a pin is checked on top, an unreadable CA file stops the
// start, and "Test" uses the endpoint's trust and proxy (pin only for a
// self-signed server). The rest of the endpoint's advanced settings:
// test/main/endpointOptions.test.ts; of the WsshApi: test/main/appApi.test.ts.

import { test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { parseEndpoint } from '../../../src/shared/endpoint';
import { testEndpoint } from '../../../src/main/tunnel/endpointCheck';
import type { EndpointTrust } from '../../../src/shared/ipc';
import { requireProgram } from '../../../scripts/harness/programs';
import { fingerprintOf, makeCertificates, makeSelfSigned } from '../../../scripts/harness/tls';
import { bannerThrough, openTestApi, startBannerServer, startConnectProxy, startEndpointApp, startInProcessServer } from '../../fixtures/appHarness';
import { connectThroughProxy, waitFor } from '../../fixtures/tunnel';
import { tempDir } from '../../fixtures/tmp';

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

test('a TLS failure on the endpoint is the error state with the reason, and a notice', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  const certs = await makeCertificates(tempDir(t));
  // A wss:// endpoint whose certificate comes from a CA the app does not trust.
  // (makeCertificates returns the files' paths.)
  const server = https.createServer({ key: fs.readFileSync(certs.serverKey), cert: fs.readFileSync(certs.serverCert) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  const port = (server.address() as AddressInfo).port;
  const { api, events } = await openTestApi(t);
  const saved = await api.saveEndpoint({ name: 'Gateway', uri: `wss://127.0.0.1:${port}/ssh`, user: '', keepaliveSec: 0 });
  assert.ok(saved.ok);
  await api.selectEndpoint(saved.value.id);
  const { listen } = await api.startTunnel();
  const refused = await connectThroughProxy(listen.port, 'db1.lan:22', { allowHalfOpen: false });
  refused.socket.destroy();
  assert.equal(refused.status, 502);
  const state = await waitFor('error state', async () => {
    const s = await api.getTunnelState();
    return s.status === 'error' ? s : undefined;
  });
  assert.equal(
    state!.reason,
    `db1.lan: TLS: the certificate of wss://127.0.0.1:${port}/ssh is from an unknown issuer (UNABLE_TO_VERIFY_LEAF_SIGNATURE); trust its CA`,
  );
  assert.ok(events.some(([e, p]) => e === 'notice' && (p as { text: string }).text === state!.reason));
});

test('trust: unknown issuer is the error state; the CA file fixes it; a wrong pin is a pin mismatch; an unreadable CA file stops the start', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  const dir = tempDir(t);
  const certs = await makeCertificates(dir);
  let frontPort = 0;
  const app = await startEndpointApp(t, (p) => `wss://127.0.0.1:${(frontPort = p)}/ssh`, { proxy: 'none' });
  // The endpoint URI was made with the WSSH port; put TLS in front of it and point the endpoint there.
  const tlsPort = await startTlsFront(t, frontPort, certs.serverCert, certs.serverKey);
  const edit = (trust: EndpointTrust) => {
    const e = app.settings.view().endpoints.find((x) => x.id === app.id)!;
    const saved = app.settings.saveEndpoint({ ...e, uri: `wss://127.0.0.1:${tlsPort}/ssh`, trust });
    assert.ok(saved.ok, JSON.stringify(saved));
  };
  edit({});
  const { listen } = await app.controller.start();
  assert.equal((await bannerThrough(t, listen.port, app.target.port)).status, 502);
  const unknown = await waitFor('error state', () => (app.controller.state().status === 'error' ? app.controller.state() : undefined));
  assert.equal(
    unknown!.reason,
    `127.0.0.1:${app.target.port}: TLS: the certificate of wss://127.0.0.1:${tlsPort}/ssh is from an unknown issuer (UNABLE_TO_VERIFY_LEAF_SIGNATURE); trust its CA`,
  );

  // The company CA as a file: the running tunnel restarts with it and works.
  edit({ caFile: certs.caCert });
  app.controller.endpointChanged();
  await waitFor('restarted', () => app.controller.state().status === 'listening');
  assert.deepEqual(await bannerThrough(t, app.controller.state().listen.port, app.target.port), { status: 200, banner: 'SSH-2.0-OpenSSH_9.2p1 WsshTest' });

  // The CA plus a pin of some other certificate: refused as a pin mismatch.
  const other = `sha256/${Buffer.alloc(32, 1).toString('base64')}`;
  edit({ caFile: certs.caCert, pins: [other] });
  app.controller.endpointChanged();
  await waitFor('restarted', () => app.controller.state().status === 'listening');
  assert.equal((await bannerThrough(t, app.controller.state().listen.port, app.target.port)).status, 502);
  const mismatch = await waitFor('error state', () => (app.controller.state().status === 'error' ? app.controller.state() : undefined));
  assert.equal(
    mismatch!.reason,
    `127.0.0.1:${app.target.port}: TLS: the certificate of wss://127.0.0.1:${tlsPort}/ssh does not match the pin: the certificate's fingerprint is ${fingerprintOf(certs.serverCert).base64}, not the pinned ${other}`,
  );

  // The right pin works.
  edit({ caFile: certs.caCert, pins: [fingerprintOf(certs.serverCert).hex] });
  app.controller.endpointChanged();
  await waitFor('restarted', () => app.controller.state().status === 'listening');
  assert.equal((await bannerThrough(t, app.controller.state().listen.port, app.target.port)).status, 200);

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

  const plain = await testEndpoint(endpoint, target, { proxy: 'none' });
  assert.deepEqual(
    plain.ok ? '' : plain.reason,
    `TLS: the certificate of wss://localhost:${tlsPort}/ssh is from an unknown issuer (DEPTH_ZERO_SELF_SIGNED_CERT); trust its CA`,
  );

  const pinned = await testEndpoint(endpoint, target, {
    trust: { pins: [fingerprintOf(self.cert).base64], pinOnly: true },
    proxy: 'system',
    resolveSystemProxy: async () => `PROXY 127.0.0.1:${proxy.port}`,
  });
  assert.ok(pinned.ok, JSON.stringify(pinned));
  assert.equal(pinned.banner, 'SSH-2.0-Pinned');
  assert.deepEqual(proxy.connects, [`localhost:${tlsPort}`]);

  const wrong = `sha256/${Buffer.alloc(32, 2).toString('base64')}`;
  const mismatch = await testEndpoint(endpoint, target, { trust: { pins: [wrong], pinOnly: true }, proxy: 'none' });
  assert.equal(mismatch.ok, false);
  assert.match(
    (mismatch as { reason: string }).reason,
    /^TLS: the certificate of wss:\/\/localhost:\d+\/ssh does not match the pin: the certificate's fingerprint is sha256\//,
  );
});
