// Authentication on the upgrade, on real sockets: 401 with a Basic challenge
// when credentials are missing or wrong, a tunnel with the right ones (from a
// plain WebSocket and from `wssh client` with user:secret@ in the endpoint),
// repeated failures from one address slowed and others not, and no secret in
// any log line. (nginx's auth_basic, the documented alternative:
// test/e2e/nginx.test.ts.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { WsshServer } from '../../server/wsshServer';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { Credentials, hashSecret } from '../../server/auth/credentials';
import { parseBasicAuth } from '../../server/auth/auth';
import { patternDigest, startEcho, startSource, type FarEnd } from '../fixtures/byteStreams';
import { runProgram } from '../../scripts/harness/processes';
import { WSSH_CLI } from '../fixtures/wssh';
import { waitFor } from '../fixtures/tunnel';
import { attempt, basic, echoOnce } from '../fixtures/upgradeClient';
import { ManualClock } from '../fixtures/manualClock';

const SECRET = 'open sesame: 7 words & a colon';
/** The first wait after a failure; they double up to 8x. */
const BACKOFF_MS = 150;
/**
 * The slow-down's clock: a wait is a sleep the server asks it for, over only
 * when the test moves it. "Slowed by 300 ms" and "not slowed" are then what
 * the server did, not how long a busy machine took to answer.
 */
const clock = new ManualClock();

let echo: FarEnd;
/** Sends SOURCE_BYTES and closes: a tunnel whose end the far side decides (stdin's end would close it first). */
let source: FarEnd;
const SOURCE_BYTES = 100_000;
let server: WsshServer;
let port: number;
let users: Credentials;
let tunnelUrl: string;
const log: string[] = [];

before(async () => {
  echo = await startEcho();
  source = await startSource(SOURCE_BYTES);
  users = Credentials.parse(`alice: ${await hashSecret(SECRET)}\nbob: ${await hashSecret('bobs secret')}\n`);
  const policy = HostsPolicy.parse(`echo.lan: "127.0.0.1:${echo.port}"\n"127.0.0.1:${source.port}": true\n`);
  server = new WsshServer({
    policy: () => policy,
    users: () => users,
    authBackoff: { baseDelayMs: BACKOFF_MS, maxDelayMs: 8 * BACKOFF_MS, clock },
    // The parallel-guesses test below parks four at once; the default allows two (test/server/loginFlood.test.ts).
    authLimits: { maxWaitingPerClient: 4 },
    keepaliveMs: 0,
    log: (l) => log.push(l),
  });
  port = (await server.listen(0)).port;
  tunnelUrl = `ws://127.0.0.1:${port}/ssh/echo.lan`;
});
after(async () => {
  await server.close();
  await echo.close();
  await source.close();
});

/** A different client address for each test, through X-Forwarded-For (trusted from loopback). */
let nextClient = 1;
function clientAddress(): string {
  return `198.51.100.${nextClient++}`;
}

/** Makes the attempt, moving the clock past every wait the server asks for: its answer, and the waits (none: not slowed). */
function waitedOut<T>(f: () => Promise<T>): Promise<{ value: T; waits: number[] }> {
  return clock.runPastSleeps(f);
}

test('Basic credentials: user and secret split at the first colon, UTF-8', () => {
  assert.deepEqual(parseBasicAuth(basic('alice', 'a:b:c')), { user: 'alice', secret: 'a:b:c' });
  assert.deepEqual(parseBasicAuth(basic('jürgen', 'pässword')), { user: 'jürgen', secret: 'pässword' });
  assert.deepEqual(parseBasicAuth('basic ' + Buffer.from('a:').toString('base64')), { user: 'a', secret: '' });
  assert.equal(parseBasicAuth(undefined), undefined);
  for (const bad of ['Bearer abc', 'Basic', 'Basic !!!!', 'Basic YWxpY2U=' /* "alice", no colon */, 'Basic YWxpY2U6e']) {
    assert.equal(parseBasicAuth(bad), null, bad);
  }
});

test('no credentials: 401 with the Basic challenge; not counted as a failure', async () => {
  const from = clientAddress();
  for (let i = 0; i < 5; i++) {
    const r = await attempt(tunnelUrl, { 'X-Forwarded-For': from });
    assert.equal(r.status, 401);
    assert.equal(r.headers!['www-authenticate'], 'Basic realm="wssh"');
    assert.match(r.body!, /authentication required/);
  }
  assert.ok(
    log.some((l) => l === `tunnel refused client=${from} target=echo.lan status=401 reason="no credentials"`),
    log.join('\n'),
  );
  // A first try without credentials is how clients start: five of them do not slow the address (five failures would: 8x).
  const { value, waits } = await waitedOut(() => attempt(tunnelUrl, { Authorization: basic('alice', SECRET), 'X-Forwarded-For': from }));
  assert.ok(value.ws);
  assert.deepEqual(waits, [], 'not slowed');
  value.ws.close();
});

test('the right user and secret open a tunnel; the log names the user', async () => {
  const { ws } = await attempt(tunnelUrl, { Authorization: basic('alice', SECRET), 'X-Forwarded-For': clientAddress() });
  assert.ok(ws, 'the tunnel should open');
  assert.equal(await echoOnce(ws, 'hello'), 'hello');
  const closedLine = new Promise((r) => server.tracker.once('close', r));
  ws.close();
  await closedLine;
  assert.ok(
    log.some((l) => /tunnel \d+ open client=198\.51\.100\.\d+ target=echo\.lan via=127\.0\.0\.1:\d+ user=alice$/.test(l)),
    log.join('\n'),
  );
  assert.ok(
    log.some((l) => /tunnel \d+ closed .* user=alice up=5 down=5 /.test(l)),
    log.join('\n'),
  );
});

test('a wrong secret and an unknown user: the same 401 to the client; the log tells them apart', async () => {
  const wrong = await attempt(tunnelUrl, { Authorization: basic('alice', 'sesame?'), 'X-Forwarded-For': clientAddress() });
  const unknown = await attempt(tunnelUrl, { Authorization: basic('mallory', SECRET), 'X-Forwarded-For': clientAddress() });
  for (const r of [wrong, unknown]) {
    assert.equal(r.status, 401);
    assert.equal(r.headers!['www-authenticate'], 'Basic realm="wssh"');
    assert.equal(r.body, 'wrong user name or secret\n');
  }
  assert.ok(
    log.some((l) => l.includes('status=401 reason="wrong secret for user \\"alice\\""')),
    log.join('\n'),
  );
  assert.ok(
    log.some((l) => l.includes('status=401 reason="unknown user"')),
    log.join('\n'),
  );
  assert.ok(!log.some((l) => l.includes('mallory')), 'an unknown name may be a mistyped secret: not logged');
});

test('the target is not checked before authentication: a bad or denied target is still 401', async () => {
  for (const target of ['db9.lan', 'bad%20host']) {
    const r = await attempt(`ws://127.0.0.1:${port}/ssh/${target}`, { 'X-Forwarded-For': clientAddress() });
    assert.equal(r.status, 401, target);
  }
});

test('repeated failures from one address are slowed, doubling; another address is not; success clears it', async () => {
  const attacker = clientAddress();
  const other = clientAddress();
  const guess = (secret: string, from = attacker) => attempt(tunnelUrl, { Authorization: basic('alice', secret), 'X-Forwarded-For': from });

  // The first guess is checked at once; each next one waits the doubled delay: 150, 300, 600 ms.
  assert.equal((await waitedOut(() => guess('guess 0'))).value.status, 401);
  for (const [i, delay] of [
    [1, BACKOFF_MS],
    [2, 2 * BACKOFF_MS],
    [3, 4 * BACKOFF_MS],
  ]) {
    const asked = clock.requested.length;
    const answer = guess(`guess ${i}`);
    const first = await Promise.race([answer.then((r) => ({ unslowed: r.status })), clock.sleepRequest(asked).then((ms) => ({ ms }))]);
    assert.deepEqual(first, { ms: delay }, `guess ${i}`);
    // Unanswered until the clock has moved the whole delay.
    clock.advance(delay - 1);
    await waitFor('the guess to be waiting', () => server.loginsPending === 1 && clock.sleeping === 1);
    clock.advance(1);
    assert.equal((await answer).status, 401);
  }

  // Another client address is not held up by the attacker's failures.
  const bystander = await waitedOut(() => guess(SECRET, other));
  assert.ok(bystander.value.ws, 'the other client gets its tunnel');
  assert.deepEqual(bystander.waits, [], 'the other client was not slowed');
  bystander.value.ws.close();

  // The right secret from the slowed address still waits its turn (8x, the cap), then clears the address.
  const late = await waitedOut(() => guess(SECRET));
  assert.ok(late.value.ws, 'the right secret opens a tunnel after the wait');
  assert.deepEqual(late.waits, [8 * BACKOFF_MS]);
  late.value.ws.close();
  const after = await waitedOut(() => guess(SECRET));
  assert.ok(after.value.ws);
  assert.deepEqual(after.waits, [], 'cleared');
  after.value.ws.close();
});

test('parallel guesses from one address get one check per delay', async () => {
  const attacker = clientAddress();
  await attempt(tunnelUrl, { Authorization: basic('alice', 'first'), 'X-Forwarded-For': attacker });
  const asked = clock.requested.length;
  const answers = Array.from({ length: 4 }, (_, i) => attempt(tunnelUrl, { Authorization: basic('alice', `parallel ${i}`), 'X-Forwarded-For': attacker }));
  await waitFor('the four guesses to wait', () => clock.sleeping === 4);
  // Slots at 150, 300, 450 and 600 ms after the failure, not all four at 150.
  assert.deepEqual(
    clock.requested.slice(asked).sort((a, b) => a - b),
    [1, 2, 3, 4].map((n) => n * BACKOFF_MS),
  );
  clock.advance(4 * BACKOFF_MS);
  for (const r of await Promise.all(answers)) assert.equal(r.status, 401);
});

test('a client that gives up during the delay frees its place and is logged', async () => {
  const leaver = clientAddress();
  await waitedOut(() => attempt(tunnelUrl, { Authorization: basic('alice', 'x'), 'X-Forwarded-For': leaver }));
  await waitedOut(() => attempt(tunnelUrl, { Authorization: basic('alice', 'y'), 'X-Forwarded-For': leaver }));
  // The next attempt waits 300 ms of the test's clock, which does not move: it leaves during the wait.
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(
    'GET /ssh/echo.lan HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
      `Authorization: ${basic('alice', 'z')}\r\nX-Forwarded-For: ${leaver}\r\n\r\n`,
  );
  // A login waiting out its slow-down is pending, and holds no tunnel slot.
  await waitFor('the attempt to wait', () => server.loginsPending === 1 && clock.sleeping === 1);
  assert.equal(server.slotsInUse, 0);
  socket.destroy();
  await waitFor('the wait to be given up', () => server.loginsPending === 0 && clock.sleeping === 0);
  await waitFor(
    'the log line',
    () => log.find((l) => l.includes(`client=${leaver} target=echo.lan status=502 reason="the client went away"`)),
    10_000,
    () => log.join('\n'),
  );
});

test('no log line holds a secret', () => {
  for (const line of log) {
    assert.ok(!line.includes(SECRET) && !line.includes('guess') && !line.includes('sesame?'), line);
    assert.ok(!line.includes(basic('alice', SECRET).slice(6)), line);
  }
});

test('wssh client with user:secret@ in the endpoint gets through; with a wrong secret it says authentication', async () => {
  const endpoint = (secret: string) => `ws://alice:${encodeURIComponent(secret)}@127.0.0.1:${port}/ssh/127.0.0.1%3A${source.port}`;
  // stdin stays open: the far end's close ends the tunnel, after its last byte.
  const stdin = new PassThrough();
  const ok = await runProgram(process.execPath, [WSSH_CLI, 'client', endpoint(SECRET), '--keepalive', '0'], {
    input: stdin,
    timeoutMs: 15_000,
  });
  stdin.destroy();
  assert.equal(ok.stdout.length, SOURCE_BYTES, ok.stderr);
  assert.equal(crypto.createHash('sha256').update(ok.stdout).digest('hex'), await patternDigest(SOURCE_BYTES));
  const refused = await runProgram(process.execPath, [WSSH_CLI, 'client', endpoint('nope'), '--keepalive', '0'], {
    input: 'x',
    timeoutMs: 15_000,
  });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /401/);
  assert.doesNotMatch(refused.stderr, /nope/);
});
