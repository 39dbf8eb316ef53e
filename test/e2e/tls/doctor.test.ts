// `wssh doctor` when TLS is the broken hop, with real programs: nginx serving
// a certificate from a CA this computer does not know; a TLS-inspecting
// middlebox made of openssl (test/fixtures/tlsInspection.ts) that re-signs
// the gateway's TLS with a CA of its own, refused against the endpoint's CA
// and, when this computer trusts the middlebox, a warning that names it; and
// a pin the presented certificate does not match, which catches that
// middlebox too. The TLS step shows the chain as received: who the
// certificate is for and who issued it.

import { test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requirePrograms } from '../../../scripts/harness/programs';
import { fingerprintOf, makeCertificates } from '../../../scripts/harness/tls';
import { startNginx } from '../../../scripts/harness/nginx';
import { startSshd } from '../../fixtures/sshd';
import { cleanEnv, spawnWsshServer, writeHosts } from '../../fixtures/wssh';
import { tempDir } from '../../fixtures/tmp';
import { startInspectingRelay } from '../../fixtures/tlsInspection';
import { doctor, expectBrokenAt, expectStep, expectWorks } from '../../fixtures/doctor';

test('wssh doctor names TLS problems: an unknown CA, a middlebox that re-signs, a pin mismatch', async (t) => {
  if (!requirePrograms(t, 'sshd', 'nginx', 'openssl')) return;
  const dir = tempDir(t, 'wssh-e2e-doctor-tls-');
  const certs = await makeCertificates(dir);
  fs.mkdirSync(path.join(dir, 'middlebox'));
  const middlebox = await makeCertificates(path.join(dir, 'middlebox'), { caName: 'Corp TLS Inspection CA' });
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const server = await spawnWsshServer(writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\n`));
  t.after(() => server.stop());
  const nginx = await startNginx({ upstreamPort: server.port, tls: { cert: certs.serverCert, key: certs.serverKey } });
  t.after(() => nginx.stop());
  /** A fresh middlebox in front of nginx for each run (it serves one client at a time). */
  const throughMiddlebox = async (args: string[], env = cleanEnv()) => {
    const relay = await startInspectingRelay(nginx.port, { cert: middlebox.serverCert, key: middlebox.serverKey });
    try {
      return await doctor([`wss://localhost:${relay.port}/ssh`, 'localhost', '--no-proxy', ...args], env);
    } finally {
      await relay.stop();
    }
  };
  // This computer trusts the middlebox's CA, as a company's managed machines do (NODE_EXTRA_CA_CERTS keeps the machine's own bundle).
  const bundle = path.join(dir, 'trusted-by-this-computer.pem');
  const extra =
    process.env.NODE_EXTRA_CA_CERTS && fs.existsSync(process.env.NODE_EXTRA_CA_CERTS) ? fs.readFileSync(process.env.NODE_EXTRA_CA_CERTS, 'utf8') : '';
  fs.writeFileSync(bundle, extra + '\n' + fs.readFileSync(middlebox.caCert, 'utf8'));
  const trustingMiddlebox = cleanEnv({ NODE_EXTRA_CA_CERTS: bundle });

  await t.test('a certificate from a CA this computer does not know; with --ca the path works', async () => {
    const run = await doctor([nginx.url, 'localhost', '--no-proxy']);
    expectBrokenAt(run, 'tls');
    expectStep(run, 'tcp', 'pass');
    expectStep(run, 'tls', 'fail', {
      answer: /^UNABLE_TO_VERIFY_LEAF_SIGNATURE; CN=localhost issued by CN=WSSH test CA$/,
      cause: /does not trust CN=WSSH test CA, which issued the certificate of localhost/,
      fix: /trust the gateway's CA \(--ca FILE\)/,
    });
    const trusted = await doctor([nginx.url, 'localhost', '--no-proxy', '--ca', certs.caCert]);
    expectWorks(trusted);
    expectStep(trusted, 'tls', 'pass', { answer: /^TLSv1\.[23]; CN=localhost issued by CN=WSSH test CA; from the endpoint's CA, trusted$/ });
  });

  await t.test("a middlebox re-signs TLS: refused against the endpoint's CA, with the middlebox named", async () => {
    const run = await throughMiddlebox(['--ca', certs.caCert]);
    expectBrokenAt(run, 'tls');
    expectStep(run, 'tls', 'fail', {
      answer: /CN=localhost issued by CN=Corp TLS Inspection CA$/,
      cause: /not the gateway's: .*CN=Corp TLS Inspection CA.*re-signs TLS \(TLS inspection by a corporate proxy, firewall or antivirus\)/,
      fix: /ask IT to exempt localhost from TLS inspection/,
    });
  });

  await t.test('this computer trusts the middlebox: the path works through it, with a warning that names it', async () => {
    const run = await throughMiddlebox([], trustingMiddlebox);
    expectWorks(run, ['tls']);
    expectStep(run, 'tls', 'warn', { answer: /issued by CN=Corp TLS Inspection CA; trusted$/, cause: /TLS-inspecting proxies/ });
    expectStep(run, 'target', 'pass', { answer: /SSH-2\.0-OpenSSH/ });
  });

  await t.test("a pin catches the trusted middlebox; a pin the gateway's own certificate does not match says it was renewed", async () => {
    const gatewayPin = fingerprintOf(certs.serverCert).base64;
    const caught = await throughMiddlebox(['--pin', gatewayPin], trustingMiddlebox);
    expectBrokenAt(caught, 'tls');
    expectStep(caught, 'tls', 'fail', { answer: /^ERR_TLS_PIN_MISMATCH; CN=localhost issued by CN=Corp TLS Inspection CA$/, cause: /re-signs TLS/ });
    const renewed = await doctor([nginx.url, 'localhost', '--no-proxy', '--ca', certs.caCert, '--pin', fingerprintOf(middlebox.serverCert).base64]);
    expectBrokenAt(renewed, 'tls');
    expectStep(renewed, 'tls', 'fail', {
      answer: /^ERR_TLS_PIN_MISMATCH; CN=localhost issued by CN=WSSH test CA$/,
      cause: /another certificate than the pinned one, issued by the CA this endpoint trusts: it was probably renewed/,
      fix: /--pin FINGERPRINT/,
    });
    // The right pin: pinned and trusted.
    const pinned = await doctor([nginx.url, 'localhost', '--no-proxy', '--ca', certs.caCert, '--pin', gatewayPin]);
    expectWorks(pinned);
    expectStep(pinned, 'tls', 'pass', { answer: /; pinned, from the endpoint's CA, trusted$/ });
  });
});
