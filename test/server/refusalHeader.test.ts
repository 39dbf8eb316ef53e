// The refusal's code in a header of its own, on real sockets: the server
// names it (X-WSSH-Refusal) on every refused upgrade, beside the status an
// old client reads; the dialer turns what one status covers (429, 503) into
// the refusal the server named, with words for it; a server without the
// header (the original one, a plain ws server) is read by its status, as
// before. The server's refusal is a RefusalError like the others.

import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { Refusal, WsshServer, type WsshServerOptions } from '../../server/wsshServer';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { Credentials, hashSecret } from '../../server/auth/credentials';
import { REFUSALS, REFUSAL_HEADER, RefusalError, type RefusalCode } from '../../src/core/tunnel/refusals';
import type { TunnelError } from '../../src/core/tunnel/tunnelError';
import { startEcho, type FarEnd } from '../fixtures/byteStreams';
import { waitFor } from '../fixtures/tunnel';
import { attempt, basic } from '../fixtures/upgradeClient';
import { dialOutcome } from '../fixtures/outcomes';
import { ManualClock } from '../fixtures/manualClock';

let echo: FarEnd;
before(async () => {
  echo = await startEcho();
});
after(() => echo.close());

const ECHO = () => ({ host: 'echo.lan', port: 22 });

async function startServer(t: TestContext, options: Partial<WsshServerOptions> = {}) {
  const policy = HostsPolicy.parse(`echo.lan: "127.0.0.1:${echo.port}"\n`);
  const server = new WsshServer({ policy: () => policy, keepaliveMs: 0, ...options });
  const { port } = await server.listen(0);
  t.after(() => server.close());
  return { server, endpoint: `ws://127.0.0.1:${port}/ssh`, port };
}

/** The dial's TunnelError (a dial that opens fails the test). */
async function refused(url: string, target = ECHO()): Promise<TunnelError> {
  const outcome = await dialOutcome(url, {}, target);
  assert.notEqual(outcome, 'ok', `${url}: the dial opened`);
  return outcome as TunnelError;
}

/** The server's answer to a plain upgrade: its status and the refusal header. */
async function answer(url: string, headers: Record<string, string> = {}) {
  const r = await attempt(url, headers);
  r.ws?.terminate();
  return { status: r.status, named: r.headers?.[REFUSAL_HEADER.toLowerCase()] };
}

test("the server's refusal is a RefusalError of the same shape", () => {
  const cause = new Error('ECONNREFUSED');
  const err = new Refusal('unauthorized', 'credentials missing', { detail: 'no such user bob', headers: { 'WWW-Authenticate': 'Basic' }, cause });
  assert.ok(err instanceof RefusalError);
  assert.equal(err.refusal, 'unauthorized');
  assert.equal(err.status, 401);
  assert.equal(err.socks5, REFUSALS.unauthorized.socks5);
  assert.equal(err.detail, 'no such user bob');
  assert.deepEqual(err.headers, { 'WWW-Authenticate': 'Basic' });
  assert.equal(err.cause, cause);
  assert.equal(new Refusal('denied', 'no rule').detail, 'no rule');
});

test('403 denied by the policy: the header says denied, the dial says refused', async (t) => {
  const { endpoint } = await startServer(t);
  assert.deepEqual(await answer(`${endpoint}/nope.lan`), { status: 403, named: 'denied' });
  const err = await refused(endpoint, { host: 'nope.lan', port: 22 });
  assert.equal(err.refusal, 'denied');
  assert.match(err.message, /^refused by the WSSH server \(403 Forbidden: no rule allows nope\.lan\)$/);
});

test('429 per-client limit: the header says client-limit, the dial reports it', async (t) => {
  const { endpoint } = await startServer(t, { maxTunnelsPerClient: 1 });
  const first = await attempt(`${endpoint}/echo.lan`);
  assert.ok(first.ws, 'the first tunnel opens');
  t.after(() => first.ws!.terminate());
  assert.deepEqual(await answer(`${endpoint}/echo.lan`), { status: 429, named: 'client-limit' });
  const err = await refused(endpoint);
  assert.equal(err.refusal, 'client-limit');
  assert.equal(err.status, 429);
  assert.match(err.message, /allows no more tunnels from this client now \(429 Too Many Requests: too many tunnels from 127\.0\.0\.1: 1 open\)$/);
});

test('503 at the server limit: the header says capacity, the dial reports it', async (t) => {
  const { endpoint } = await startServer(t, { maxTunnels: 1 });
  const first = await attempt(`${endpoint}/echo.lan`);
  assert.ok(first.ws, 'the first tunnel opens');
  t.after(() => first.ws!.terminate());
  assert.deepEqual(await answer(`${endpoint}/echo.lan`, { 'X-Forwarded-For': '198.51.100.7' }), { status: 503, named: 'capacity' });
  const err = await refused(endpoint);
  assert.equal(err.refusal, 'capacity');
  assert.equal(err.status, 503);
  assert.match(err.message, /is at its tunnel limit: try again later \(503 Service Unavailable: server at capacity: 1 tunnel open\)$/);
});

test('503 draining: an upgrade still pending when the server closes is told so, and the dial reports it', async (t) => {
  // A login from an address that just failed one waits out its slow-down on
  // this clock, which does not move: the upgrade is pending when close() comes.
  const clock = new ManualClock();
  const users = Credentials.parse(`alice: ${await hashSecret('right')}\n`);
  const log: string[] = [];
  const { server, endpoint, port } = await startServer(t, { users: () => users, authBackoff: { baseDelayMs: 1000, clock }, log: (line) => log.push(line) });
  const wrong = await attempt(`${endpoint}/echo.lan`, { Authorization: basic('alice', 'wrong') });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers?.[REFUSAL_HEADER.toLowerCase()], 'unauthorized');

  const dialed = refused(`ws://alice:right@127.0.0.1:${port}/ssh`);
  await waitFor('the login to wait', () => server.loginsPending === 1 && clock.sleeping === 1);
  const closed = server.close();
  const err = await dialed;
  await closed;
  assert.equal(err.refusal, 'draining');
  assert.equal(err.status, 503);
  assert.match(err.message, /is shutting down: try again \(503 Service Unavailable: server shutting down: try again\)$/);
  // The log line names the client and the target the pending upgrade asked for.
  assert.ok(
    log.some((line) => /^tunnel refused client=127\.0\.0\.1 target=echo\.lan status=503 /.test(line)),
    log.join('\n'),
  );
});

test('every refused upgrade names its code, the status its row in the table', async (t) => {
  const { endpoint, port } = await startServer(t, { maxPathLength: 64 });
  const cases: Array<[string, Record<string, string>, RefusalCode]> = [
    [`${endpoint}/bad%zz`, {}, 'bad-target'],
    [`${endpoint}/${'x'.repeat(80)}`, {}, 'path-too-long'],
    [`${endpoint}/echo.lan`, { Origin: 'https://evil.example' }, 'origin'],
  ];
  for (const [url, headers, code] of cases) {
    assert.deepEqual(await answer(url, headers), { status: REFUSALS[code].status, named: code }, url);
  }
  // A refusal the dialer has no words for stays "the server failed", its code said.
  const err = await refused(`ws://127.0.0.1:${port}/${'y'.repeat(60)}/ssh`);
  assert.equal(err.refusal, 'server-failed');
  assert.match(err.message, /^the WSSH server failed \(414 URI Too Long: .*; refusal path-too-long\)$/);
});

/** A plain ws server (no WSSH header) that refuses every upgrade with `status`. */
async function plainServer(t: TestContext, status: number, named?: string): Promise<string> {
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    verifyClient: (_info, done) => done(false, status, 'not now', named ? { [REFUSAL_HEADER]: named } : {}),
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  t.after(() => new Promise((resolve) => wss.close(resolve)));
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ssh`;
}

test('a server without the header is read by its status, as before: 503 and 429 are "the server failed"', async (t) => {
  for (const [status, phrase] of [
    [503, 'Service Unavailable'],
    [429, 'Too Many Requests'],
  ] as const) {
    const err = await refused(await plainServer(t, status));
    assert.equal(err.refusal, 'server-failed', String(status));
    assert.equal(err.message, `the WSSH server failed (${status} ${phrase}: not now)`);
    assert.equal(err.status, 502);
  }
  // So is a code this client does not know (a newer server's).
  const unknown = await refused(await plainServer(t, 503, 'some-new-refusal'));
  assert.equal(unknown.refusal, 'server-failed');
  assert.equal(unknown.message, 'the WSSH server failed (503 Service Unavailable: not now)');
});

test('a code whose status is not its own is not believed: the status decides, as without the header', async (t) => {
  // 503 naming 'unauthorized' (401): a proxy or a broken server; not "requires authentication".
  const mismatched = await refused(await plainServer(t, 503, 'unauthorized'));
  assert.equal(mismatched.refusal, 'server-failed');
  assert.equal(mismatched.message, 'the WSSH server failed (503 Service Unavailable: not now)');
  // 403 naming 'capacity' (503): read as the 403 it is.
  const denied = await refused(await plainServer(t, 403, 'capacity'));
  assert.equal(denied.refusal, 'denied');
});
