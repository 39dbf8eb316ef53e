// Who the client is: X-Forwarded-For believed only from a trusted proxy
// (loopback by default, or the addresses and CIDR ranges given to
// --trust-proxy, as with servers on other hosts behind one nginx), the
// rightmost entry taken, IPv4-mapped addresses written as IPv4.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { ClientAddresses, parseTrustProxy } from '../../server/clientAddress';
import { WsshServer } from '../../server/wsshServer';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { startEcho } from '../fixtures/byteStreams';
import { attempt } from '../fixtures/upgradeClient';

/** The two things ClientAddresses reads from a request. */
function request(peer: string, forwarded?: string): http.IncomingMessage {
  return { socket: { remoteAddress: peer }, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} } as unknown as http.IncomingMessage;
}

test('--trust-proxy: keywords, or a list of addresses and CIDR ranges', () => {
  for (const word of ['loopback', 'always', 'never'] as const) assert.equal(parseTrustProxy(word), word);
  assert.deepEqual(parseTrustProxy('10.0.0.2, 10.1.0.0/16,fd00::/8'), ['10.0.0.2', '10.1.0.0/16', 'fd00::/8']);
  assert.throws(() => parseTrustProxy('maybe'), { message: 'expected loopback, always, never' });
  assert.throws(() => parseTrustProxy('10.0.0.0/33'), /"10\.0\.0\.0\/33" is not an IP address or CIDR range/);
  assert.throws(() => parseTrustProxy('10.0.0.1,gw.lan'), /"gw\.lan" is not an IP address/);
  assert.throws(() => parseTrustProxy('::1/129'), /not an IP address or CIDR range/);
});

test('X-Forwarded-For counts only from a trusted peer, rightmost entry', () => {
  const loopback = new ClientAddresses('loopback');
  assert.equal(loopback.of(request('127.0.0.1', '10.9.9.9, 203.0.113.7')), '203.0.113.7');
  assert.equal(loopback.of(request('::ffff:127.0.0.1', '203.0.113.7')), '203.0.113.7');
  assert.equal(loopback.of(request('198.51.100.1', '203.0.113.7')), '198.51.100.1');
  assert.equal(loopback.of(request('127.0.0.1', 'not-an-ip')), '127.0.0.1');
  assert.equal(loopback.of(request('::ffff:198.51.100.1')), '198.51.100.1', 'IPv4-mapped is written as IPv4');

  const listed = new ClientAddresses(['10.0.0.2', '10.1.0.0/16', 'fd00::/8']);
  assert.equal(listed.of(request('10.0.0.2', '203.0.113.7')), '203.0.113.7');
  assert.equal(listed.of(request('::ffff:10.1.2.3', '203.0.113.8')), '203.0.113.8');
  assert.equal(listed.of(request('fd00::5', '2001:db8::1')), '2001:db8::1');
  assert.equal(listed.of(request('10.0.0.3', '203.0.113.7')), '10.0.0.3');
  assert.equal(listed.of(request('127.0.0.1', '203.0.113.7')), '127.0.0.1', 'a list replaces loopback');

  assert.equal(new ClientAddresses('never').of(request('127.0.0.1', '203.0.113.7')), '127.0.0.1');
  assert.equal(new ClientAddresses('always').of(request('198.51.100.1', '203.0.113.7')), '203.0.113.7');
});

test('the server takes the client address as configured', async (t) => {
  const echo = await startEcho();
  t.after(() => echo.close());
  const policy = HostsPolicy.parse(`echo.lan: "127.0.0.1:${echo.port}"\n`);
  for (const [trustProxy, expected] of [
    [['127.0.0.0/8'], '203.0.113.9'],
    [['10.0.0.2'], '127.0.0.1'],
  ] as const) {
    const log: string[] = [];
    const server = new WsshServer({ policy: () => policy, keepaliveMs: 0, trustProxy, log: (l) => log.push(l) });
    const { port } = await server.listen(0);
    const { ws } = await attempt(`ws://127.0.0.1:${port}/ssh/echo.lan`, { 'X-Forwarded-For': '203.0.113.9' });
    assert.ok(ws);
    ws.close();
    await new Promise((r) => server.tracker.once('close', r));
    await server.close();
    assert.ok(
      log.some((l) => l.includes(`open client=${expected} target=echo.lan`)),
      `${trustProxy}: ${log.join('\n')}`,
    );
  }
});
