// Client certificates on real TLS sockets: a Node HTTPS server that ends the
// handshake when the client's certificate is missing or not from its CA (as
// Go, Node and OpenSSL servers do, unlike nginx, whose 400 pages are tested in
// test/e2e/clientCertificate.test.ts): each TLS alert becomes the message for
// it, and with the right certificate the tunnel's WebSocket opens. Node's
// server closes the connection on a certificate from an unknown CA without an
// alert, so that one is OpenSSL's `s_server -verify_return_error`, which sends
// `unknown_ca`. Also the checks made when a certificate is given.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { SERVER_MARK_HEADER, SERVER_MARK_VALUE } from '../../../src/core/dial/legacyServer';
import { dial } from '../../../src/core/dial/dialer';
import { TunnelError } from '../../../src/core/tunnel/tunnelError';
import { parseEndpoint } from '../../../src/shared/endpoint';
import { parseTarget } from '../../../src/shared/target';
import {
  ClientCertificateError,
  REFUSED_CLIENT_CERTIFICATE,
  checkClientCertificate,
  type ClientCertificate,
} from '../../../src/core/dial/trust/clientCertificate';
import { makeCertificates, makeClientCertificate } from '../../../scripts/harness/tls';
import { tempDir } from '../../fixtures/tmp';
import { requirePrograms } from '../../../scripts/harness/programs';
import { spawnDaemon } from '../../../scripts/harness/processes';
import { freePort, waitForPort } from '../../../scripts/harness/ports';

async function gateway(t: { after(fn: () => unknown): void }, options: https.ServerOptions): Promise<number> {
  const server = https.createServer({ ...options, requestCert: true, rejectUnauthorized: true });
  const wss = new WebSocketServer({ server });
  wss.on('headers', (headers) => headers.push(`${SERVER_MARK_HEADER}: ${SERVER_MARK_VALUE}`));
  wss.on('connection', (ws) => ws.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  t.after(() => wss.close());
  return (server.address() as AddressInfo).port;
}

test('a gateway that ends the handshake: certificate required, unknown CA, handshake failure; the right one opens', async (t) => {
  if (!requirePrograms(t, 'openssl')) return;
  const dir = tempDir(t, 'wssh-clientcert-');
  const certs = await makeCertificates(dir);
  const mine = await makeClientCertificate(dir, 'corp', 'pw');
  const other = await makeClientCertificate(dir, 'other', 'pw');
  const serverTls = { cert: fs.readFileSync(certs.serverCert), key: fs.readFileSync(certs.serverKey), ca: fs.readFileSync(mine.ca) };
  const tls13 = await gateway(t, serverTls);
  const tls12 = await gateway(t, { ...serverTls, maxVersion: 'TLSv1.2' });
  const strict = await freePort();
  const sServer = spawnDaemon('openssl s_server', 'openssl', [
    's_server',
    '-accept',
    `127.0.0.1:${strict}`,
    '-cert',
    certs.serverCert,
    '-key',
    certs.serverKey,
    '-CAfile',
    mine.ca,
    '-Verify',
    '2',
    '-verify_return_error',
    '-www',
    '-quiet',
  ]);
  t.after(() => sServer.stop());
  await waitForPort(strict, '127.0.0.1', 10_000);
  const ca = fs.readFileSync(certs.caCert, 'utf8');
  const pem = (c: typeof mine): ClientCertificate => ({ cert: fs.readFileSync(c.cert, 'utf8'), key: fs.readFileSync(c.key, 'utf8'), source: c.cert });
  const target = parseTarget('db1.lan');
  const attempt = (port: number, clientCertificate?: ClientCertificate) =>
    dial(parseEndpoint(`wss://localhost:${port}/ssh`), target, { ca, clientCertificate, handshakeTimeoutMs: 10_000 });
  // What is wrong, and no front end's remedy: the CLI and the app word it from the setting the error carries.
  const leftToFrontEnds = (err: TunnelError) => {
    assert.deepEqual(err.setting, REFUSED_CLIENT_CERTIFICATE);
    assert.doesNotMatch(err.message, /--cert|--pfx|wssh:|the app|Advanced/);
  };

  await assert.rejects(attempt(tls13), (err: TunnelError) => {
    assert.equal(err.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    assert.match(err.message, new RegExp(`^TLS: wss://localhost:${tls13}/ssh requires a client certificate and none was given \\(certificate required\\)`));
    leftToFrontEnds(err);
    return true;
  });
  await assert.rejects(attempt(strict, pem(other)), (err: TunnelError) => {
    assert.equal(err.code, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', `${err.message}\n${sServer.output()}`);
    assert.match(
      err.message,
      new RegExp(
        `^TLS: wss://localhost:${strict}/ssh refused the client certificate ${other.cert} \\(unknown CA: it does not trust the issuer of this certificate\\)`,
      ),
    );
    leftToFrontEnds(err);
    return true;
  });
  await assert.rejects(attempt(tls12), (err: TunnelError) => {
    assert.match(
      err.message,
      new RegExp(`^TLS: wss://localhost:${tls12}/ssh ended the handshake \\(handshake failure\\): it may require a client certificate`),
    );
    leftToFrontEnds(err);
    return true;
  });
  const ws = await attempt(tls13, pem(mine));
  ws.terminate();
  const viaPfx = await attempt(tls12, { pfx: fs.readFileSync(mine.pfx), passphrase: 'pw', source: mine.pfx });
  viaPfx.terminate();
  // With a CA of its own too: the certificate goes into the same secure context.
  const both = await dial(parseEndpoint(`wss://localhost:${tls13}/ssh`), target, { ca, systemCa: false, clientCertificate: pem(mine), pin: undefined });
  both.terminate();

  assert.throws(
    () => checkClientCertificate({ pfx: fs.readFileSync(mine.pfx), passphrase: 'wrong', source: 'c.pfx' }),
    /^ClientCertificateError: the passphrase of c\.pfx is wrong$/,
  );
  assert.throws(() => checkClientCertificate({ pfx: fs.readFileSync(mine.pfx), source: 'c.pfx' }), /c\.pfx is protected by a passphrase/);
  // The hint each carries for the front ends' remedy.
  const hintOf = (certificate: ClientCertificate) => {
    try {
      checkClientCertificate(certificate);
    } catch (err) {
      assert.ok(err instanceof ClientCertificateError);
      assert.equal(err.field, 'clientCertificate');
      return err.hint;
    }
  };
  assert.equal(hintOf({ pfx: fs.readFileSync(mine.pfx), source: 'c.pfx' }), 'give-passphrase');
  assert.equal(hintOf({ pfx: fs.readFileSync(mine.pfx), passphrase: 'wrong', source: 'c.pfx' }), 'fix-passphrase');
  assert.equal(hintOf({ ...pem(mine), key: fs.readFileSync(other.key, 'utf8') }), 'fix-value');
  assert.throws(
    () => checkClientCertificate({ pfx: Buffer.from('not a pfx'), source: 'x.pfx' }),
    /x\.pfx is not a PKCS#12 \(\.pfx\/\.p12\) file or is damaged|cannot use the client certificate x\.pfx/,
  );
  assert.throws(
    () => checkClientCertificate({ ...pem(mine), key: fs.readFileSync(other.key, 'utf8') }),
    /the key in .*corp\.crt does not belong to its certificate/,
  );
  assert.throws(() => checkClientCertificate({ cert: 'x', key: fs.readFileSync(mine.key, 'utf8'), source: 'c.pem' }), /no PEM certificate in c\.pem/);
  assert.throws(() => checkClientCertificate({ cert: fs.readFileSync(mine.cert, 'utf8'), source: 'c.pem' }), /needs both a certificate and its key/);
});
