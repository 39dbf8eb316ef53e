// TLS trust per endpoint, against real TLS servers on loopback with
// certificates made by openssl for this run: each certificate problem is
// reported as what it is, a pin is checked on top of the usual checks (or,
// with pinOnly, instead of issuer and name), the server name can be
// overridden, and nothing of the upgrade request reaches a server whose
// certificate failed. (What is refused before any dial, and dials that fail
// before any certificate: test/core/trust.test.ts.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { SERVER_MARK_HEADER, SERVER_MARK_VALUE } from '../../../src/core/dial/legacyServer';
import type { TunnelError } from '../../../src/core/tunnel/tunnelError';
import { requireProgram } from '../../../scripts/harness/programs';
import { makeCertificates, makeSelfSigned, makeServerCertificate, fingerprintOf, type Certificates } from '../../../scripts/harness/tls';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp';
import { dialOutcome as attempt } from '../../fixtures/outcomes';

interface TlsServer {
  port: number;
  /** The SNI each TLS connection carried ('' for none). */
  servernames: string[];
  /** Upgrade requests that arrived (with their Authorization header). */
  upgrades: Array<{ url: string; authorization?: string }>;
  close(): Promise<void>;
}

async function startTlsServer(cert: string, key: string): Promise<TlsServer> {
  const servernames: string[] = [];
  const upgrades: TlsServer['upgrades'] = [];
  const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
  server.on('secureConnection', (socket: TLSSocket) => servernames.push(typeof socket.servername === 'string' ? socket.servername : ''));
  const wss = new WebSocketServer({ noServer: true });
  wss.on('headers', (headers) => headers.push(`${SERVER_MARK_HEADER}: ${SERVER_MARK_VALUE}`));
  server.on('upgrade', (req, socket, head) => {
    upgrades.push({ url: req.url ?? '', authorization: req.headers.authorization });
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    servernames,
    upgrades,
    close: () =>
      new Promise((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let dir: string;
let certs: Certificates;
let good: TlsServer; // CA-signed, localhost + 127.0.0.1
let expired: TlsServer; // CA-signed, expired in 2020
let otherName: TlsServer; // CA-signed for gw.example.test only
let selfSigned: TlsServer; // no CA
let ca: string;
let files: Record<'good' | 'expired' | 'other' | 'self', string>;
// Without openssl (outside CI) each test skips, saying so.
const haveOpenssl = requireProgram(undefined, 'openssl') !== undefined;

before(async () => {
  if (!haveOpenssl) return;
  dir = makeTempDir('wssh-trust-');
  certs = await makeCertificates(dir);
  ca = fs.readFileSync(certs.caCert, 'utf8');
  const old = await makeServerCertificate(dir, 'expired', certs, { expired: true });
  const other = await makeServerCertificate(dir, 'other', certs, { altNames: ['DNS:gw.example.test'] });
  const self = await makeSelfSigned(dir, 'self');
  files = { good: certs.serverCert, expired: old.cert, other: other.cert, self: self.cert };
  good = await startTlsServer(certs.serverCert, certs.serverKey);
  expired = await startTlsServer(old.cert, old.key);
  otherName = await startTlsServer(other.cert, other.key);
  selfSigned = await startTlsServer(self.cert, self.key);
});
after(async () => {
  if (!haveOpenssl) return;
  await Promise.all([good, expired, otherName, selfSigned].map((s) => s.close()));
  removeTempDir(dir);
});

function assertRefused(result: 'ok' | TunnelError, code: string | RegExp, message: RegExp): void {
  assert.notEqual(result, 'ok', 'the dial should have failed');
  const err = result as TunnelError;
  assert.equal(err.status, 502);
  if (typeof code === 'string') assert.equal(err.code, code, err.message);
  else assert.match(err.code ?? '', code, err.message);
  assert.match(err.message, message);
}

test('a certificate from a CA given with `ca` is trusted; without it, "unknown issuer"', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  assert.equal(await attempt(`wss://localhost:${good.port}/ssh`, { ca }), 'ok');
  assert.equal(good.servernames.at(-1), 'localhost', 'SNI is the endpoint host');
  assertRefused(
    await attempt(`wss://localhost:${good.port}/ssh`),
    /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/,
    new RegExp(`^TLS: the certificate of wss://localhost:${good.port}/ssh is from an unknown issuer \\(\\w+\\); trust its CA$`),
  );
});

test('an address endpoint: checked against the IP in the certificate, no SNI sent', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  assert.equal(await attempt(`wss://127.0.0.1:${good.port}/ssh`, { ca }), 'ok');
  assert.equal(good.servernames.at(-1), '');
});

test('an expired certificate is reported as expired', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  assertRefused(
    await attempt(`wss://localhost:${expired.port}/ssh`, { ca }),
    'CERT_HAS_EXPIRED',
    /^TLS: the certificate of wss:\/\/localhost:\d+\/ssh has expired$/,
  );
});

test('a certificate for another name is a name mismatch; --servername with that name makes it match (and is the SNI sent)', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  assertRefused(
    await attempt(`wss://localhost:${otherName.port}/ssh`, { ca }),
    'ERR_TLS_CERT_ALTNAME_INVALID',
    /^TLS: the certificate does not match the host name of wss:\/\/localhost:\d+\/ssh \(Host: localhost\. is not in the cert's altnames: DNS:gw\.example\.test\)$/,
  );
  assert.equal(await attempt(`wss://localhost:${otherName.port}/ssh`, { ca, servername: 'gw.example.test' }), 'ok');
  assert.equal(otherName.servernames.at(-1), 'gw.example.test');
  // By address too: the usual way to need it.
  assert.equal(await attempt(`wss://127.0.0.1:${otherName.port}/ssh`, { ca, servername: 'gw.example.test' }), 'ok');
  assert.equal(otherName.servernames.at(-1), 'gw.example.test');
  // The override is checked like the host would be: a wrong one fails.
  assertRefused(
    await attempt(`wss://localhost:${otherName.port}/ssh`, { ca, servername: 'nope.example.test' }),
    'ERR_TLS_CERT_ALTNAME_INVALID',
    /does not match/,
  );
});

test('a pin is checked on top of the usual checks: right pin passes, wrong pin is a pin mismatch naming the actual fingerprint', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  const pin = fingerprintOf(files.good);
  const wrong = fingerprintOf(files.other);
  assert.equal(await attempt(`wss://localhost:${good.port}/ssh`, { ca, pin: pin.base64 }), 'ok');
  assert.equal(await attempt(`wss://localhost:${good.port}/ssh`, { ca, pin: pin.hex }), 'ok');
  assert.equal(await attempt(`wss://localhost:${good.port}/ssh`, { ca, pin: [wrong.base64, pin.base64] }), 'ok', 'any one of several pins');
  const before = good.upgrades.length;
  const escaped = (s: string) => s.replace(/[/+]/g, '\\$&');
  assertRefused(
    await attempt(`wss://alice:secret@localhost:${good.port}/ssh`, { ca, pin: wrong.base64 }),
    'ERR_TLS_PIN_MISMATCH',
    new RegExp(
      `^TLS: the certificate of wss://alice:\\*\\*\\*@localhost:\\d+/ssh does not match the pin: the certificate's fingerprint is ${escaped(pin.base64)}, not the pinned ${escaped(wrong.base64)}$`,
    ),
  );
  assert.equal(good.upgrades.length, before, 'no request (and no credentials) reached the server');
  // A pin does not replace the issuer check.
  assertRefused(await attempt(`wss://localhost:${good.port}/ssh`, { pin: pin.base64 }), /^UNABLE_TO/, /unknown issuer/);
  // Nor the name check.
  assertRefused(
    await attempt(`wss://localhost:${otherName.port}/ssh`, { ca, pin: fingerprintOf(files.other).base64 }),
    'ERR_TLS_CERT_ALTNAME_INVALID',
    /does not match the host name/,
  );
});

test('pinOnly: a self-signed certificate is accepted by its pin alone, any other refused before a byte is sent; dates still count', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  const self = fingerprintOf(files.self);
  assertRefused(await attempt(`wss://localhost:${selfSigned.port}/ssh`), 'DEPTH_ZERO_SELF_SIGNED_CERT', /unknown issuer/);
  assert.equal(await attempt(`wss://alice:secret@localhost:${selfSigned.port}/ssh`, { pin: self.base64, pinOnly: true }), 'ok');
  assert.equal(selfSigned.upgrades.at(-1)?.authorization, `Basic ${Buffer.from('alice:secret').toString('base64')}`);
  // Names are not checked under pinOnly: the pin names the exact certificate.
  assert.equal(await attempt(`wss://127.0.0.1:${otherName.port}/ssh`, { pin: fingerprintOf(files.other).base64, pinOnly: true }), 'ok');

  const before = selfSigned.upgrades.length;
  assertRefused(
    await attempt(`wss://alice:secret@localhost:${selfSigned.port}/ssh`, { pin: fingerprintOf(files.good).base64, pinOnly: true }),
    'ERR_TLS_PIN_MISMATCH',
    /does not match the pin: the certificate's fingerprint is sha256\//,
  );
  assert.equal(selfSigned.upgrades.length, before, 'nothing of the request (nor the credentials) reached the impostor');

  assertRefused(
    await attempt(`wss://localhost:${expired.port}/ssh`, { pin: fingerprintOf(files.expired).base64, pinOnly: true }),
    'CERT_HAS_EXPIRED',
    /^TLS: the certificate of wss:\/\/localhost:\d+\/ssh has expired \(it expired on Jan {1,2}2 00:00:00 2020 GMT\)$/,
  );
});
