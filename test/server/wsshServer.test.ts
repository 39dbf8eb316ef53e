// The WSSH server on real sockets: every refusal is an HTTP status on the
// upgrade with a reason, decided before the upgrade is accepted; the log
// line per tunnel names the client, the targets, the bytes and the reason.
// (A target that never answers the TCP connect: test/e2e/connectTimeout.test.ts.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WsshServer } from '../../server/wsshServer';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { startEcho, type FarEnd } from '../fixtures/byteStreams';
import { freePort } from '../../scripts/harness/ports';
import { attempt } from '../fixtures/upgradeClient';

let echo: FarEnd;
let closedPort: number;
let server: WsshServer;
let base: string;
let policy: HostsPolicy;
const log: string[] = [];

before(async () => {
  echo = await startEcho();
  closedPort = await freePort();
  policy = HostsPolicy.parse(
    [
      `echo.lan: "127.0.0.1:${echo.port}"`,
      `"127.0.0.1:${echo.port}": true`,
      `closed.lan: "127.0.0.1:${closedPort}"`,
      `nowhere.lan: nonexistent-host.invalid`,
      `/^db\\d+$/: true`,
      `db9: false`,
    ].join('\n'),
  );
  // The default connect timeout: a busy machine must not turn a good target into a 504.
  server = new WsshServer({ policy: () => policy, keepaliveMs: 0, log: (l) => log.push(l) });
  const address = await server.listen(0);
  base = `ws://127.0.0.1:${address.port}/ssh`;
});
after(async () => {
  await server.close();
  await echo.close();
});

test('an allowed mapped target opens and relays bytes exactly', async () => {
  const { ws } = await attempt(`${base}/echo.lan`);
  assert.ok(ws);
  ws.send(Buffer.from('hello'));
  const [data] = await new Promise<[Buffer]>((r) => ws.once('message', (d: Buffer) => r([d])));
  assert.equal(data.toString(), 'hello');
  const closed = new Promise((r) => server.tracker.once('close', r));
  ws.close();
  await closed;
  const line = log.find((l) => l.includes('closed') && l.includes('target=echo.lan'));
  assert.ok(line, log.join('\n'));
  assert.match(line, new RegExp(`via=127\\.0\\.0\\.1:${echo.port} up=5 down=5 duration=\\d+\\.\\ds reason=`));
});

test('another port is reachable only when a rule names it, percent-encoded in one segment', async () => {
  const { ws } = await attempt(`${base}/${encodeURIComponent(`127.0.0.1:${echo.port}`)}`);
  assert.ok(ws);
  ws.terminate();
  const { status, body } = await attempt(`${base}/${encodeURIComponent('db1:2222')}`);
  assert.equal(status, 403);
  assert.match(body!, /no rule allows db1:2222/);
});

test('a host no rule allows gets 403 with the reason', async () => {
  const { status, body } = await attempt(`${base}/secret.lan`);
  assert.equal(status, 403);
  assert.match(body!, /no rule allows secret\.lan/);
  assert.ok(log.some((l) => /refused .*target=secret\.lan status=403/.test(l)));
});

test('an exact deny wins over an allowing regex', async () => {
  const { status, body } = await attempt(`${base}/db9`);
  assert.equal(status, 403);
  assert.match(body!, /denied by rule db9/);
});

test('a bad target gets 400', async () => {
  const { status, body } = await attempt(`${base}/${encodeURIComponent('bad host')}`);
  assert.equal(status, 400);
  assert.match(body!, /bad target/);
});

test('a target that refuses the connection gets 502', async () => {
  const { status, body } = await attempt(`${base}/closed.lan`);
  assert.equal(status, 502);
  assert.match(body!, /connection refused by 127\.0\.0\.1:\d+/);
});

test('a target that does not resolve gets 502 naming it', async () => {
  const { status, body } = await attempt(`${base}/nowhere.lan`);
  assert.equal(status, 502);
  assert.match(body!, /cannot resolve nonexistent-host\.invalid/);
});

test('a plain HTTP request gets 426, not a tunnel', async () => {
  const res = await fetch(base.replace('ws:', 'http:') + '/x');
  assert.equal(res.status, 426);
});

test('the client address comes from X-Forwarded-For only from a loopback proxy, rightmost entry', async () => {
  policy = HostsPolicy.parse(`echo.lan: "127.0.0.1:${echo.port}"`);
  const { ws } = await attempt(`${base}/echo.lan`, { 'X-Forwarded-For': '10.9.9.9, 203.0.113.7' });
  assert.ok(ws);
  ws.close();
  await new Promise((r) => server.tracker.once('close', r));
  assert.ok(
    log.some((l) => l.includes('open client=203.0.113.7 target=echo.lan')),
    log.join('\n'),
  );
});
