// TLS trust per endpoint without a certificate: the pins and options that are
// refused before any dial, and dials that fail before a certificate is seen
// (a TLS server that never finishes its handshake, a plain server asked for
// TLS). Against real TLS servers with certificates made by openssl:
// test/e2e/tls/trust.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../../src/core/dial/dialer';
import { type TunnelError } from '../../src/core/tunnel/tunnelError';
import { TrustError, checkTrustOptions, formatPin, parsePin } from '../../src/core/dial/trust/trust';
import { dialOutcome as attempt } from '../fixtures/outcomes';
import { waitFor } from '../fixtures/tunnel';

test("parsePin: sha256/BASE64, hex with or without colons, openssl's output line", () => {
  const bytes = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
  const hexColons = [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  for (const text of [
    `sha256/${bytes.toString('base64')}`,
    `SHA256/${bytes.toString('base64').replace(/=+$/, '')}`,
    `sha256/${bytes.toString('base64url')}`,
    hexColons,
    hexColons.toLowerCase().replace(/:/g, ''),
    `sha256 Fingerprint=${hexColons}`,
    `  ${hexColons}\n`,
  ]) {
    assert.deepEqual(parsePin(text), bytes, text);
  }
  assert.equal(formatPin(bytes), `sha256/${bytes.toString('base64')}`);
});

test('parsePin and checkTrustOptions: what is refused, saying why', () => {
  assert.throws(() => parsePin('sha256/AAAA'), /a sha256 fingerprint has 32 bytes, this one 3/);
  assert.throws(() => parsePin('sha256/not base64!'), /is not base64/);
  assert.throws(() => parsePin('AB:CD'), /expected sha256\/BASE64 or AB:CD/);
  assert.throws(() => parsePin('sha1/' + 'A'.repeat(28)), TrustError);
  assert.throws(() => checkTrustOptions({ pinOnly: true }), /pinOnly needs a pin/);
  assert.throws(() => checkTrustOptions({ servername: '10.0.0.1' }), /expected a DNS name/);
  assert.throws(() => checkTrustOptions({ servername: 'a b' }), /expected a DNS name/);
  checkTrustOptions({ pin: ['sha256/' + Buffer.alloc(32).toString('base64')], pinOnly: true, servername: 'gw.example.com' });
});

test('a TLS server that never finishes its handshake: 504 after the handshake timeout', async () => {
  const closed: Promise<void>[] = [];
  const silent = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.resume(); // reads (and ignores) the ClientHello, so its end is seen
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as net.AddressInfo).port;
  const started = Date.now();
  const result = await attempt(`wss://localhost:${port}/ssh`, { handshakeTimeoutMs: 400 });
  assert.notEqual(result, 'ok');
  assert.equal((result as TunnelError).status, 504);
  assert.equal((result as TunnelError).code, 'TIMEOUT');
  assert.match((result as TunnelError).message, /^the WebSocket handshake with wss:\/\/localhost:\d+\/ssh timed out after 0\.4 s$/);
  // The deadline given, not the default one (how soon after it the dial gave up is the machine's business).
  assert.ok(Date.now() - started < DEFAULT_HANDSHAKE_TIMEOUT_MS, `gave up after ${Date.now() - started} ms`);
  // The dial's half-made connection was closed, not left to the server.
  await waitFor('the server to have the connection', () => closed.length === 1);
  await closed[0];
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

test('a plain ws:// server asked with wss://: says there is no TLS there', async () => {
  const plain = net.createServer((socket) => socket.on('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  const port = (plain.address() as net.AddressInfo).port;
  const result = await attempt(`wss://localhost:${port}/ssh`);
  assert.notEqual(result, 'ok');
  assert.equal((result as TunnelError).code, 'ERR_SSL_WRONG_VERSION_NUMBER');
  assert.match((result as TunnelError).message, /^TLS: no TLS server at wss:\/\/localhost:\d+\/ssh \(is it a ws:\/\/ endpoint\?\)$/);
  await new Promise<void>((resolve) => plain.close(() => resolve()));
});
