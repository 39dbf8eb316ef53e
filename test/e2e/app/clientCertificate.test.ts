// The client certificate of an endpoint in the tray app, made by openssl for
// this run: a PKCS#12 file with its passphrase sealed in the settings, read
// at start (a wrong passphrase says so); and against nginx with
// ssl_verify_client on, the tunnel opens with it, and without it the error
// says where to fix it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TunnelController } from '../../../src/main/tunnel/tunnelController';
import { loadTrust } from '../../../src/main/settings/endpointOptions';
import { ClientCertificateError } from '../../../src/core/dial/trust/clientCertificate';
import { freePort } from '../../../scripts/harness/ports';
import { requireProgram, requirePrograms } from '../../../scripts/harness/programs';
import { makeCertificates, makeClientCertificate } from '../../../scripts/harness/tls';
import { startNginx } from '../../../scripts/harness/nginx';
import { openTestSettings, startBannerServer, startInProcessServer, testCipher } from '../../fixtures/appHarness';
import { connectThroughProxy, waitFor } from '../../fixtures/tunnel';
import { tempDir } from '../../fixtures/tmp';

test('a client certificate per endpoint: PKCS#12 with its sealed passphrase, read at start; a wrong one says so', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  const dir = tempDir(t);
  const cert = await makeClientCertificate(dir, 'alice', 'pfx-pw');
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  const saved = settings.saveEndpoint({
    name: 'Y',
    uri: 'wss://gw.example.com/ssh',
    user: '',
    keepaliveSec: 0,
    trust: { clientPfx: cert.pfx },
    clientPassphrase: 'pfx-pw',
  });
  assert.ok(saved.ok, JSON.stringify(saved));
  assert.equal(saved.value.hasClientPassphrase, true);
  assert.ok(!fs.readFileSync(settings.path, 'utf8').includes('pfx-pw'));
  settings.selectEndpoint(saved.value.id);
  const active = settings.activeEndpoint();
  assert.ok(active.ok);
  const trust = await loadTrust(active.value.trust, active.value.clientPassphrase);
  assert.equal(trust.clientCertificate?.source, cert.pfx);
  await assert.rejects(loadTrust(active.value.trust, 'nope'), new RegExp(`the passphrase of ${cert.pfx.replace(/[.]/g, '\\.')} is wrong`));
  // Core's error as it is, its hint for the app's words (test/main/configErrors.test.ts).
  await assert.rejects(loadTrust({ clientPfx: cert.pfx }), (err: unknown) => {
    assert.ok(err instanceof ClientCertificateError);
    assert.match(err.message, /is protected by a passphrase$/);
    assert.equal(err.hint, 'give-passphrase');
    return true;
  });
  const pem = await loadTrust({ clientCert: cert.cert, clientKey: cert.key });
  assert.equal(pem.clientCertificate?.source, cert.cert);
  await assert.rejects(
    loadTrust({ clientCert: path.join(dir, 'none.crt'), clientKey: cert.key }),
    /cannot read the client certificate file .*none\.crt: no such file/,
  );
  const both = settings.saveEndpoint({ ...saved.value, trust: { clientPfx: cert.pfx, clientCert: cert.cert } });
  assert.deepEqual(both, { ok: false, error: 'give a PKCS#12 file or a certificate and key, not both' });
});

test("the app's client certificate against nginx with ssl_verify_client on: with it the tunnel opens, without it the error says where to fix it", async (t) => {
  if (!requirePrograms(t, 'nginx', 'openssl')) return;
  const dir = tempDir(t);
  const certs = await makeCertificates(dir);
  const cert = await makeClientCertificate(dir, 'alice', 'pfx-pw');
  const wssh = await startInProcessServer();
  const target = await startBannerServer();
  t.after(async () => {
    await wssh.server.close();
    await target.close();
  });
  const nginx = await startNginx({
    upstreamPort: wssh.port,
    tls: { cert: certs.serverCert, key: certs.serverKey },
    extra: `ssl_verify_client on;\nssl_client_certificate ${cert.ca};`,
  });
  t.after(() => nginx.stop());
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  const saved = settings.saveEndpoint({
    name: 'Gateway',
    uri: nginx.url,
    user: '',
    keepaliveSec: 0,
    proxy: 'none',
    trust: { caFile: certs.caCert, clientPfx: cert.pfx },
    clientPassphrase: 'pfx-pw',
  });
  assert.ok(saved.ok, JSON.stringify(saved));
  settings.selectEndpoint(saved.value.id);
  settings.update({ listen: { host: '127.0.0.1', port: await freePort() } });
  const controller = new TunnelController({
    resolveEndpoint: () => settings.activeEndpoint(),
    listenAddress: () => settings.view().listen,
    log: () => {},
    drainMs: 0,
  });
  t.after(() => controller.stop(0));
  const { listen } = await controller.start();
  const ok = await connectThroughProxy(listen.port, `127.0.0.1:${target.port}`);
  t.after(() => ok.socket.destroy());
  assert.equal(ok.status, 200, ok.body);

  // Without the certificate (a restart: the trust is the proxy's for its lifetime).
  settings.saveEndpoint({ ...settings.view().endpoints.find((e) => e.id === saved.value.id)!, trust: { caFile: certs.caCert }, clientPassphrase: '' });
  controller.endpointChanged();
  await waitFor(
    'the restart without a certificate',
    async () => {
      const r = await connectThroughProxy(listen.port, `127.0.0.1:${target.port}`).catch(() => undefined);
      r?.socket.destroy();
      return r?.status === 502;
    },
    10_000,
  );
  const state = await waitFor('error state', () => (controller.state().status === 'error' ? controller.state() : undefined));
  assert.match(state.reason!, /requires a client certificate and none was given \(400 No required SSL certificate was sent\)/);
  assert.equal(state.fix, 'Endpoints ▸ Gateway ▸ Advanced ▸ Client certificate');
});
