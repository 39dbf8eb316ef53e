// Resume end to end in one process, on real sockets: the local proxy
// (ConnectProxy) and the server (WsshServer) with the Cutter between them,
//
//   client <-TCP-> ConnectProxy <-ws-> Cutter <-TCP-> WsshServer <-TCP-> echo
//
// The cutter breaks the path as networks do (a reset, a silent stall, the
// way down for a while); every test checks what the SSH client would see:
// every byte once and in order, or a clear end with a message.

import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import WebSocket from 'ws';
import { ConnectProxy } from '../../src/core/localProxy/connectProxy';
import { parseEndpoint } from '../../src/shared/endpoint';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { WsshServer, type WsshServerOptions } from '../../server/wsshServer';
import { Cutter } from '../../scripts/harness/cutter';
import { startEcho } from '../fixtures/byteStreams';
import { connectThroughProxy, endedWithin, readExactly, waitFor, within } from '../fixtures/tunnel';
import { REFUSAL_HEADER } from '../../src/core/tunnel/refusals';
import { RESUME_TOKEN_HEADER, SESSION_HEADER, newSessionKey, resumeRequestHeaders } from '../../src/core/tunnel/resumeProtocol';
import { Credentials, formatUserLine, hashSecret } from '../../server/auth/credentials';

const opened: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

interface Rig {
  server: WsshServer;
  proxy: ConnectProxy;
  cutter: Cutter;
  proxyPort: number;
  serverPort: number;
  serverLog: string[];
  proxyLog: string[];
  policy: { current: HostsPolicy };
}

async function startRig(options: { server?: Partial<WsshServerOptions>; resume?: boolean; endpointAuth?: string } = {}): Promise<Rig> {
  const echo = await startEcho();
  opened.push(echo);
  const policy = { current: HostsPolicy.parse(`echo.lan: "127.0.0.1:${echo.port}"\n`) };
  const serverLog: string[] = [];
  const server = new WsshServer({ policy: () => policy.current, keepaliveMs: 0, log: (l) => serverLog.push(l), ...options.server });
  const serverPort = (await server.listen(0, '127.0.0.1')).port;
  opened.push({ close: () => server.close() });
  const cutter = new Cutter(serverPort);
  await cutter.listen();
  opened.push(cutter);
  const proxyLog: string[] = [];
  const auth = options.endpointAuth ? `${options.endpointAuth}@` : '';
  const proxy = new ConnectProxy({
    endpoint: parseEndpoint(`ws://${auth}127.0.0.1:${cutter.port}/ssh`),
    // Pings find a stall: two missed, 2-3 s.
    keepaliveMs: 1000,
    resume: options.resume,
    log: (l) => proxyLog.push(l),
  });
  const proxyPort = (await proxy.listen(0)).port;
  opened.push({ close: () => proxy.close() });
  return { server, proxy, cutter, proxyPort, serverPort, serverLog, proxyLog, policy };
}

async function openTunnel(rig: Rig): Promise<net.Socket> {
  const reply = await connectThroughProxy(rig.proxyPort, 'echo.lan:22');
  assert.equal(reply.status, 200, reply.body);
  opened.push({ close: () => reply.socket.destroy() });
  return reply.socket;
}

/** Sends `total` random bytes through the echo tunnel in pieces, calling `between(i)` after piece i; checks the echo is exact. */
async function echoExactly(socket: net.Socket, total: number, pieces: number, between: (i: number) => Promise<void> | void): Promise<void> {
  const data = crypto.randomBytes(total);
  const got = readExactly(socket, total, 120_000);
  socket.resume();
  const size = Math.ceil(total / pieces);
  for (let i = 0; i < pieces; i++) {
    socket.write(data.subarray(i * size, (i + 1) * size));
    await between(i);
  }
  const echoed = await got;
  assert.ok(echoed.equals(data), 'the echo differs: a byte lost, doubled or out of order');
}

test('a tunnel survives cuts and stalls: every byte echoed once and in order, resumes counted', async () => {
  const rig = await startRig();
  const socket = await openTunnel(rig);
  const [tracked] = rig.proxy.tracker.list();
  assert.equal(tracked.resumes, 0, 'a resumable tunnel counts its resumes from 0');
  let cuts = 0;
  await echoExactly(socket, 8 * 1024 * 1024, 8, async (i) => {
    if (i % 2 !== 0) return;
    // Destroy tells both ends at once; a stall tells nobody: the client's pings find it.
    rig.cutter.cut(i % 4 === 0 ? 'destroy' : 'stall');
    cuts++;
    // The resume itself (the tracker's count), not only a new connection, which may be an attempt: each cut is a break of its own.
    await waitFor(
      'the resume',
      () => rig.proxy.tracker.list()[0]?.resumes === cuts,
      30_000,
      () => rig.proxyLog.join('\n'),
    );
  });
  await waitFor(
    'the resumes counted',
    () => rig.proxy.tracker.list()[0]?.resumes === cuts,
    10_000,
    () => JSON.stringify(rig.proxy.tracker.list()),
  );
  assert.ok(
    rig.proxyLog.some((l) => /connection lost \(.*\); resuming/.test(l)),
    rig.proxyLog.join('\n'),
  );
  assert.ok(
    rig.proxyLog.some((l) => /resumed after \d+\.\d s, .* replayed/.test(l)),
    rig.proxyLog.join('\n'),
  );
  assert.ok(
    rig.serverLog.some((l) => /tunnel \d+ parked: /.test(l)),
    rig.serverLog.join('\n'),
  );
  assert.ok(
    rig.serverLog.some((l) => /tunnel \d+ resumed after/.test(l)),
    rig.serverLog.join('\n'),
  );
  assert.match(rig.server.metrics.prometheus(), new RegExp(`wssh_resumes_total ${cuts}\\n`));
  // Nothing of the resume's secret reaches a log.
  const token = [...rig.server.sessions.all()][0].token;
  assert.ok(![...rig.serverLog, ...rig.proxyLog].some((l) => l.includes(token)), 'the resume token was logged');
});

test("resume off on either side: today's tunnel, and a cut ends it", async (t) => {
  for (const [name, options] of [
    ['server', { server: { resumeTimeoutMs: 0 } }],
    ['client', { resume: false }],
  ] as const) {
    await t.test(`off on the ${name}`, async () => {
      const rig = await startRig(options);
      const socket = await openTunnel(rig);
      assert.equal(rig.proxy.tracker.list()[0].resumes, undefined, 'a plain tunnel has no resume count');
      assert.equal(rig.server.sessions.size, 0);
      rig.cutter.cut('destroy');
      assert.ok(await endedWithin(socket, 10_000), 'the SSH client sees the end, as before resume existed');
    });
  }
});

test('the resume window passes while the way is down: the server closes the target connection, the client ends with the message', async () => {
  const rig = await startRig({ server: { resumeTimeoutMs: 1000 } });
  const socket = await openTunnel(rig);
  rig.cutter.block();
  rig.cutter.cut('destroy');
  assert.ok(await endedWithin(socket, 20_000), 'the local connection ends');
  await waitFor(
    'the server closed the parked tunnel',
    () => rig.server.tracker.size === 0,
    10_000,
    () => rig.serverLog.join('\n'),
  );
  assert.ok(
    rig.serverLog.some((l) => /closed .*reason="not resumed within 1 s/.test(l)),
    rig.serverLog.join('\n'),
  );
  assert.match(rig.server.metrics.prometheus(), /wssh_resume_expired_total 1\n/);
  await waitFor(
    'the give-up line',
    () => rig.proxyLog.some((l) => /the session is lost: not resumed within 1 s/.test(l)),
    10_000,
    () => rig.proxyLog.join('\n'),
  );
});

test('a server that does not hold the session (another server, or it restarted) refuses the resume; the client says so at once', async () => {
  const rig = await startRig();
  const socket = await openTunnel(rig);
  // The server's sessions are lost as in a restart: its relays end without telling the client.
  for (const session of rig.server.sessions.all()) (session.relay as unknown as { ws?: WebSocket }).ws?.terminate();
  const other = await startRig();
  // The way now leads to another server.
  const port = rig.cutter.port;
  rig.cutter.close();
  const moved = new Cutter(other.serverPort);
  await moved.listen(port);
  opened.push(moved);
  assert.ok(await endedWithin(socket, 20_000), 'the local connection ends');
  await waitFor(
    'the give-up line',
    () => rig.proxyLog.find((l) => /the session is lost: the session could not be resumed/.test(l)),
    10_000,
    () => rig.proxyLog.join('\n'),
  );
  assert.match(other.server.metrics.prometheus(), /wssh_refusals_total\{status="410",reason="resume-unknown"\} 1\n/);
});

/** A raw upgrade with `headers`; resolves with the status and the refusal header. */
function upgrade(port: number, headers: Record<string, string>): Promise<{ status: number; refusal?: string; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ssh/echo.lan`, { headers, perMessageDeflate: false });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, refusal: res.headers[REFUSAL_HEADER.toLowerCase()] as string | undefined });
      res.resume();
      ws.terminate();
    });
    ws.once('upgrade', () => {});
    ws.once('open', () => {
      opened.push({ close: () => ws.terminate() });
      resolve({ status: 101, ws });
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}

test('attacks: a guessed token, an unknown session and a malformed resume are refused alike and slowed down; a resume by another user is refused', async () => {
  const line = formatUserLine('alice', await hashSecret('alice-secret')) + '\n' + formatUserLine('mallory', await hashSecret('mallory-secret')) + '\n';
  const users = Credentials.parse(line);
  const rig = await startRig({
    server: { users: () => users, authBackoff: { baseDelayMs: 200, maxDelayMs: 400 } },
    endpointAuth: 'alice:alice-secret',
  });
  await openTunnel(rig);
  const [session] = rig.server.sessions.all();
  const basic = (user: string) => 'Basic ' + Buffer.from(`${user}:${user}-secret`).toString('base64');
  const resumeWith = (user: string, sessionKey: string, token: string) =>
    upgrade(rig.serverPort, { Authorization: basic(user), ...resumeRequestHeaders({ sessionKey, token, received: 0 }) });

  const guessed = await resumeWith('alice', session.key, crypto.randomBytes(16).toString('base64url'));
  assert.deepEqual([guessed.status, guessed.refusal], [410, 'resume-unknown']);
  const unknown = await resumeWith('alice', newSessionKey(), crypto.randomBytes(16).toString('base64url'));
  assert.deepEqual([unknown.status, unknown.refusal], [410, 'resume-unknown'], 'an unknown session is answered as a wrong token');
  // The slow-down of wrong passwords: the third guess from this address waits.
  const started = Date.now();
  const third = await resumeWith('alice', session.key, crypto.randomBytes(16).toString('base64url'));
  assert.equal(third.status, 410);
  assert.ok(Date.now() - started >= 150, `the third guess was answered after ${Date.now() - started} ms, not slowed down`);
  // The right token, but another user: refused as well (the session stays alice's).
  const stolen = await resumeWith('mallory', session.key, session.token);
  assert.deepEqual([stolen.status, stolen.refusal], [410, 'resume-unknown']);
  const malformed = await upgrade(rig.serverPort, { Authorization: basic('alice'), [SESSION_HEADER]: session.key, [RESUME_TOKEN_HEADER]: session.token });
  assert.deepEqual([malformed.status, malformed.refusal], [400, 'malformed'], 'a resume without its count');
  assert.match(rig.server.metrics.prometheus(), /wssh_resumes_refused_total 4\n/);
  assert.equal(rig.server.tracker.size, 1, 'the session is still there, untouched');
  // No log line holds the token.
  assert.ok(!rig.serverLog.some((l) => l.includes(session.token)), 'the token was logged');
});

test('a resume with the right token replaces the connection it resumes (one at a time); a new tunnel cannot take a key in use', async () => {
  const rig = await startRig();
  const socket = await openTunnel(rig);
  const [session] = rig.server.sessions.all();
  const before = await readBackAfter(socket, Buffer.from('before'));
  assert.equal(before, 'before');
  // Someone who read the key in a log offers it for a new tunnel: it opens, but without resume, and the session is untouched.
  const squatter = await upgrade(rig.serverPort, { [SESSION_HEADER]: session.key });
  assert.equal(squatter.status, 101);
  assert.equal(rig.server.sessions.size, 1);
  assert.equal([...rig.server.sessions.all()][0], session);
  // The client's own resume through the way still works after that.
  const connections = rig.cutter.connections;
  rig.cutter.cut('destroy');
  await waitFor('the resume', () => rig.cutter.connections > connections && rig.cutter.open > 0, 20_000);
  assert.equal(await readBackAfter(socket, Buffer.from('after')), 'after');
});

async function readBackAfter(socket: net.Socket, data: Buffer): Promise<string> {
  const got = readExactly(socket, data.length, 20_000);
  socket.resume();
  socket.write(data);
  return (await within(got, 25_000, 'the echo')).toString();
}

test('a policy reload that denies the target ends its parked session; a resume never reaches a target the policy refuses now', async () => {
  const rig = await startRig();
  const socket = await openTunnel(rig);
  rig.cutter.block();
  rig.cutter.cut('destroy');
  await waitFor(
    'the session parked',
    () => rig.server.sessions.parked === 1,
    10_000,
    () => rig.serverLog.join('\n'),
  );
  rig.policy.current = HostsPolicy.parse('other.lan: true\n');
  rig.server.policyChanged();
  await waitFor(
    'the parked session ended',
    () => rig.server.sessions.size === 0,
    10_000,
    () => rig.serverLog.join('\n'),
  );
  assert.ok(
    rig.serverLog.some((l) => /ended while parked: the reloaded policy denies echo\.lan/.test(l)),
    rig.serverLog.join('\n'),
  );
  rig.cutter.block(false);
  assert.ok(await endedWithin(socket, 30_000), `the client ends the local connection\n${rig.proxyLog.join('\n')}`);
});

test('parked sessions count against the per-client limit: a flood of them cannot take more slots than open tunnels could', async () => {
  const rig = await startRig({ server: { maxTunnelsPerClient: 3 } });
  for (let i = 0; i < 3; i++) await openTunnel(rig);
  rig.cutter.block();
  rig.cutter.cut('destroy');
  await waitFor('three parked', () => rig.server.sessions.parked === 3, 10_000);
  const fourth = await upgrade(rig.serverPort, { [SESSION_HEADER]: newSessionKey() });
  assert.deepEqual([fourth.status, fourth.refusal], [429, 'client-limit']);
});

test('an old client (no session key) gets no resume offer: the 101 is what it was', async () => {
  const rig = await startRig();
  const headers = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${rig.serverPort}/ssh/echo.lan`, { perMessageDeflate: false });
    ws.once('upgrade', (res) => {
      resolve(res.headers);
      ws.terminate();
    });
    ws.once('error', reject);
  });
  assert.equal(headers[RESUME_TOKEN_HEADER.toLowerCase()], undefined);
  assert.deepEqual(
    Object.keys(headers).filter((h) => h.startsWith('x-wssh-resume')),
    [],
  );
  assert.equal(rig.server.sessions.size, 0);
});
