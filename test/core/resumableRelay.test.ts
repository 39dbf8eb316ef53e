// The resumable relay on real sockets:
//
//   near (PuTTY) <-TCP-> [nearRelay] <-ws-> cutter <-TCP-> WebSocket server [farRelay] <-TCP-> far (sshd)
//
// The cutter is a small TCP relay between the two WebSocket ends that the
// test breaks in two ways: destroyed (both ends see the connection go) or
// stalled (it stops forwarding and closes nothing, as a dead NAT or a
// sleeping laptop would: the keepalive finds it). The handshake is the one
// of resumeProtocol.ts, spoken here by the test as the server and the client
// will speak it.

import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { BufferBudget } from '../../src/core/tunnel/bufferBudget';
import { ResumableRelay, type ResumableRelayOptions } from '../../src/core/tunnel/resumableRelay';
import {
  ResumeProtocolError,
  newResumeToken,
  newSessionKey,
  offerHeaders,
  offerResponseLines,
  parseOfferResponse,
  parseResumedResponse,
  parseUpgradeRequest,
  resumeRequestHeaders,
  resumedResponseLines,
  tokensMatch,
} from '../../src/core/tunnel/resumeProtocol';
import { digestOf, firstBytes, patternDigest, patternStream } from '../fixtures/byteStreams';
import { endedWithin, waitFor, within } from '../fixtures/tunnel';
import { Cutter, type CutKind } from '../../scripts/harness/cutter';

const MiB = 1024 * 1024;
/** What a TCP socket hands over in one read at most: the slack above the window a detached relay may hold. */
const ONE_READ = 64 * 1024;

/** What each test opened, closed after it whether it passed or not (a failed test must not keep the file running). */
const opened: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of opened.splice(0)) o.close();
});

interface Rig {
  /** The SSH client's end (PuTTY). */
  near: net.Socket;
  /** The SSH server's end (sshd). */
  far: net.Socket;
  nearRelay: ResumableRelay;
  farRelay: ResumableRelay;
  cutter: Cutter;
  /** Replays sent on each resume, near (up) and far (down). */
  replays: { near: number[]; far: number[] };
  /** Redials with the resume headers and attaches the new WebSocket. */
  resume(): Promise<void>;
  close(): void;
}

const listen = (server: net.Server | http.Server) => new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const portOf = (server: net.Server | http.Server) => (server.address() as net.AddressInfo).port;

/** Opens a WebSocket with `headers`; resolves once open, paused (as dial() hands it over), with the 101's headers. */
function dial(port: number, headers: Record<string, string>): Promise<{ ws: WebSocket; response: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ssh/db1.lan`, { headers, perMessageDeflate: false });
    let response: http.IncomingMessage | undefined;
    ws.once('upgrade', (res) => (response = res));
    ws.once('open', () => {
      ws.pause();
      resolve({ ws, response: response! });
    });
    ws.once('error', reject);
  });
}

async function startRig(options: ResumableRelayOptions & { autoResume?: boolean } = {}): Promise<Rig> {
  const opts: ResumableRelayOptions = { keepaliveMs: 0, ...options };
  const farServer = net.createServer({ allowHalfOpen: true });
  const nearServer = net.createServer({ allowHalfOpen: true });
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false });
  await Promise.all([farServer, nearServer, httpServer].map(listen));
  const cutter = new Cutter(portOf(httpServer));
  await listen(cutter.server);
  const replays = { near: [] as number[], far: [] as number[] };

  // The server's half of the handshake, as the next step's server will do it.
  const sessions = new Map<string, { relay: ResumableRelay; token: string }>();
  const decided = new WeakMap<http.IncomingMessage, { sessionKey: string; token?: string; received?: number }>();
  wss.on('headers', (lines, req) => {
    const asked = parseUpgradeRequest(req.headers);
    if (asked.kind === 'offer') {
      const token = newResumeToken();
      lines.push(...offerResponseLines({ token, window: opts.window ?? 4 * MiB, timeoutSec: 300 }));
      decided.set(req, { sessionKey: asked.sessionKey, token });
    } else if (asked.kind === 'resume') {
      const session = sessions.get(asked.sessionKey)!;
      assert.ok(tokensMatch(session.token, asked.token));
      // The old WebSocket may not have broken here yet (a stall): drop it before reading the count.
      session.relay.detach('a resume arrived');
      lines.push(...resumedResponseLines(session.relay.received));
      decided.set(req, { sessionKey: asked.sessionKey, received: asked.received });
    }
  });
  const farAccepted = new Promise<net.Socket>((r) => farServer.once('connection', r));
  const farRelay = new Promise<ResumableRelay>((resolve) => {
    wss.on('connection', (ws, req) => {
      const d = decided.get(req)!;
      if (d.token !== undefined) {
        const tcp = net.connect({ port: portOf(farServer), host: '127.0.0.1', allowHalfOpen: true });
        const relay = new ResumableRelay(tcp, opts);
        relay.on('attached', (a) => relay.attachments > 1 && replays.far.push(a.replayed));
        sessions.set(d.sessionKey, { relay, token: d.token });
        relay.attach(ws, 0);
        resolve(relay);
      } else {
        sessions.get(d.sessionKey)!.relay.attach(ws, d.received!);
      }
    });
  });

  // The client's half.
  const nearAccepted = new Promise<net.Socket>((r) => nearServer.once('connection', r));
  const near = net.connect({ port: portOf(nearServer), host: '127.0.0.1', allowHalfOpen: true });
  const nearSide = await nearAccepted;
  const sessionKey = newSessionKey();
  const first = await dial(cutter.port, offerHeaders(sessionKey));
  const offer = parseOfferResponse(first.response.headers)!;
  assert.ok(offer, 'the server offered resume');
  const nearRelay = new ResumableRelay(nearSide, { ...opts, window: offer.window });
  nearRelay.on('attached', (a) => nearRelay.attachments > 1 && replays.near.push(a.replayed));
  nearRelay.attach(first.ws, 0);

  const resume = async () => {
    const { ws, response } = await dial(cutter.port, resumeRequestHeaders({ sessionKey, token: offer.token, received: nearRelay.received }));
    nearRelay.attach(ws, parseResumedResponse(response.headers));
  };
  if (options.autoResume) {
    nearRelay.on('detached', () => {
      const retry = (): Promise<void> => resume().catch(() => (nearRelay.attached ? undefined : retry()));
      void retry();
    });
  }
  const far = await farAccepted;
  let closed = false;
  // Like an SSH client and server: each is done when the other side is.
  near.on('end', () => near.end());
  far.on('end', () => far.end());
  const rig: Rig = {
    near,
    far,
    nearRelay,
    farRelay: await farRelay,
    cutter,
    replays,
    resume,
    close() {
      if (closed) return;
      closed = true;
      near.destroy();
      far.destroy();
      cutter.close();
      for (const client of wss.clients) client.terminate();
      wss.close();
      httpServer.close();
      httpServer.closeAllConnections();
      farServer.close();
      nearServer.close();
    },
  };
  opened.push(rig);
  return rig;
}

/** A small seeded generator (mulberry32): the same cut points on every run. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('16 MiB each way across five cuts at random points: byte-exact, in order, once; the FIN then ends the session', async (t) => {
  const size = 16 * MiB;
  const window = 4 * MiB;
  const rig = await startRig({ keepaliveMs: 250, window, autoResume: true });
  const random = seeded(20);
  const kinds: CutKind[] = ['destroy', 'stall', 'destroy', 'stall', 'destroy'];
  // Both directions cross the cutter: 32 MiB and more, so every point below 29 MiB is reached mid-transfer.
  rig.cutter.cutAt(kinds.map((kind) => ({ kind, at: Math.floor(MiB + random() * 28 * MiB) })));
  const up = digestOf(firstBytes(rig.far, size));
  const down = digestOf(firstBytes(rig.near, size));
  patternStream(size, 'up').pipe(rig.near, { end: false });
  patternStream(size, 'down').pipe(rig.far, { end: false });
  const [u, d] = await within(Promise.all([up, down]), 120_000, 'the transfer across the cuts');
  assert.equal(u.bytes, size);
  assert.equal(u.sha256, await patternDigest(size, 'up'));
  assert.equal(d.bytes, size);
  assert.equal(d.sha256, await patternDigest(size, 'down'));
  assert.equal(rig.cutter.cuts, 5);

  rig.near.end(); // the SSH client is done
  const [near, far] = await within(Promise.all([rig.nearRelay.done, rig.farRelay.done]), 20_000, 'the end of the session');
  assert.equal(near.reason, 'stream ended');
  assert.match(far.reason, /^peer closed the WebSocket \(1000 EOF\)$/);
  assert.equal(near.sent, size);
  assert.equal(near.received, size);
  assert.equal(far.sent, size);
  assert.equal(far.received, size);
  // Five cuts, and on a loaded machine perhaps a missed pong more: each is one more resume, as it would be for real.
  assert.ok(near.resumes >= 5 && far.resumes >= 5, `resumed ${near.resumes} and ${far.resumes} times`);
  assert.equal(
    near.replayed,
    rig.replays.near.reduce((a, b) => a + b, 0),
  );
  for (const peak of [near.peakReplay, far.peakReplay]) assert.ok(peak <= window + ONE_READ, `the replay buffer held ${peak} bytes at most`);
  t.diagnostic(`cut at ${rig.cutter.forwarded} B forwarded in all; ${near.resumes} resumes`);
  t.diagnostic(`replayed up (near -> far): ${rig.replays.near.join(', ')} B; down: ${rig.replays.far.join(', ')} B`);
  t.diagnostic(`peak replay buffer: near ${near.peakReplay} B, far ${far.peakReplay} B (window ${window})`);
  assert.ok(await endedWithin(rig.far, 5000), 'sshd saw the FIN');
  rig.close();
});

test('a broken link parks at most a window: the source meets backpressure, and after the resume every byte arrives', async (t) => {
  const window = MiB;
  // More than the loopback's socket buffers hold (a few MiB each, autotuned), so the source must block.
  const size = 32 * MiB;
  const budget = new BufferBudget();
  const rig = await startRig({ window, budget });
  const got = digestOf(firstBytes(rig.far, size));
  const source = patternStream(size, 'parked');
  let waiting = false;
  let drainsWhileParked = 0;
  source.on('data', (chunk: Buffer) => {
    if (rig.near.write(chunk)) return;
    source.pause();
    waiting = true;
    rig.near.once('drain', () => {
      if (!rig.nearRelay.attached) drainsWhileParked++;
      waiting = false;
      source.resume();
    });
  });
  source.on('end', () => rig.near.end());
  await waitFor('the first MiB through', () => rig.farRelay.received >= MiB, 20_000);
  rig.cutter.cut('destroy');
  const stalled = () => !rig.nearRelay.attached && rig.nearRelay.readingStreamPaused && waiting && rig.near.writableLength > 0;
  await waitFor('the near relay detached, its reading paused and the source blocked', stalled, 20_000, () =>
    JSON.stringify({
      attached: rig.nearRelay.attached,
      paused: rig.nearRelay.readingStreamPaused,
      waiting,
      pending: rig.near.writableLength,
      read: rig.nearRelay.sent,
    }),
  );
  const parked = rig.nearRelay.unacknowledged;
  assert.ok(parked >= window && parked <= window + ONE_READ, `${parked} bytes parked, window ${window}`);
  assert.ok(budget.buffered >= parked, 'the parked bytes count in the budget');
  assert.ok(rig.nearRelay.sent < size, `reading stopped at ${rig.nearRelay.sent} of ${size}`);
  // From here until the resume, no drain: the relay reads nothing more.
  drainsWhileParked = 0;

  await rig.resume();
  const r = await within(got, 60_000, 'the rest after the resume');
  assert.equal(r.bytes, size);
  assert.equal(r.sha256, await patternDigest(size, 'parked'));
  assert.equal(drainsWhileParked, 0, 'the blocked source was not drained while the link was down');
  const [near, far] = await within(Promise.all([rig.nearRelay.done, rig.farRelay.done]), 20_000, 'the end of the session');
  assert.ok(near.peakReplay <= window + ONE_READ, `peak ${near.peakReplay}`);
  assert.equal(far.received, size);
  assert.equal(near.resumes, 1);
  t.diagnostic(`parked ${parked} B (window ${window}); replayed ${near.replayed} B`);
  await waitFor('the budget given back', () => budget.buffered === 0 && budget.size === 0, 5000);
  rig.close();
});

test("the far end's FIN while the link is down: its last bytes arrive after the resume, then the session ends", async () => {
  const rig = await startRig();
  const greeting = new Promise<Buffer>((r) => rig.near.once('data', r));
  rig.far.write('SSH-2.0-test\r\n');
  assert.equal((await within(greeting, 10_000, 'the banner')).toString(), 'SSH-2.0-test\r\n');
  const detached = Promise.all([new Promise((r) => rig.nearRelay.once('detached', r)), new Promise((r) => rig.farRelay.once('detached', r))]);
  rig.cutter.cut('destroy');
  await within(detached, 10_000, 'both sides detached');
  const rest: Buffer[] = [];
  rig.near.on('data', (c: Buffer) => rest.push(c));
  rig.far.end('last words');
  await waitFor('the far relay read the FIN', () => rig.farRelay.sent === 'SSH-2.0-test\r\nlast words'.length, 10_000);
  assert.equal(rig.farRelay.attached, false);
  await rig.resume();
  assert.ok(await endedWithin(rig.near, 10_000), 'the client saw the end');
  assert.equal(Buffer.concat(rest).toString(), 'last words');
  const [near, far] = await within(Promise.all([rig.nearRelay.done, rig.farRelay.done]), 10_000, 'the end of the session');
  assert.equal(far.reason, 'stream ended');
  assert.match(near.reason, /1000 EOF/);
  assert.equal(far.replayed, 'last words'.length);
  rig.close();
});

/** A relay over a stream pair, attached to a raw WebSocket peer the test drives. */
async function rawPeer(onPeer: (peer: WebSocket) => void, options: ResumableRelayOptions = {}) {
  const server = net.createServer({ allowHalfOpen: true });
  await listen(server);
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect({ port: portOf(server), host: '127.0.0.1', allowHalfOpen: true });
  client.on('end', () => client.end());
  client.on('error', () => {});
  const stream = await accepted;
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer });
  const peerClosed = new Promise<{ code: number; reason: string }>((resolve) =>
    wss.once('connection', (peer) => {
      peer.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      onPeer(peer);
    }),
  );
  await listen(httpServer);
  const { ws } = await dial(portOf(httpServer), {});
  const relay = new ResumableRelay(stream, { keepaliveMs: 0, lingerMs: 200, ...options });
  let closed = false;
  const p = {
    relay,
    ws,
    client,
    peerClosed,
    close() {
      if (closed) return;
      closed = true;
      client.destroy();
      for (const c of wss.clients) c.terminate();
      wss.close();
      httpServer.close();
      httpServer.closeAllConnections();
      server.close();
    },
  };
  opened.push(p);
  return p;
}

test('acks flow back within the ack time; other text frames are reported, never written into the stream; a 1000 close ends the session', async () => {
  const acks: string[] = [];
  const p = await rawPeer((peer) => {
    peer.on('message', (data, isBinary) => {
      if (isBinary) return;
      acks.push(data.toString());
      if (data.toString() === 'ack 6') peer.close(1000, 'EOF');
    });
    peer.send(Buffer.from('abc'));
    peer.send('Oops:Error: not an ack');
    peer.send(Buffer.from('def'));
  });
  const texts: string[] = [];
  p.relay.on('text', (m) => texts.push(m));
  const received: Buffer[] = [];
  p.client.on('data', (c: Buffer) => received.push(c));
  p.relay.attach(p.ws, 0);
  const result = await within(p.relay.done, 10_000, 'the end');
  assert.equal(Buffer.concat(received).toString(), 'abcdef');
  assert.deepEqual(texts, ['Oops:Error: not an ack']);
  assert.deepEqual(acks, ['ack 6']);
  assert.equal(result.received, 6);
  assert.match(result.reason, /peer said: Oops:Error: not an ack/);
  assert.ok(await endedWithin(p.client, 5000));
  p.close();
});

test('an ack beyond what was sent is refused with the typed error, and the session ends with a message', async () => {
  const p = await rawPeer((peer) => peer.send('ack 999'));
  p.relay.attach(p.ws, 0);
  const result = await within(p.relay.done, 10_000, 'the end');
  assert.ok(result.error instanceof ResumeProtocolError);
  assert.equal(result.error.field, 'ack');
  assert.match(result.reason, /the peer acknowledges byte 999, but only 0 were sent/);
  const closed = await p.peerClosed;
  assert.equal(closed.code, 1002);
  assert.match(closed.reason, /acknowledges byte 999/);
  assert.ok(await endedWithin(p.client, 5000), 'the local connection was ended');
  p.close();
});

for (const [frame, message] of [
  ['ack -1', /ack must be a count of bytes/],
  ['ack ' + '1'.repeat(1024 * 1024), /an ack frame of 1048580 bytes, longer than any count/],
] as const) {
  test(`a malformed ack is refused the same way: ${frame.slice(0, 12)}…`, async () => {
    const p = await rawPeer((peer) => peer.send(frame));
    p.relay.attach(p.ws, 0);
    const result = await within(p.relay.done, 10_000, 'the end');
    assert.ok(result.error instanceof ResumeProtocolError);
    assert.match(result.reason, message);
    assert.equal((await p.peerClosed).code, 1002);
    p.close();
  });
}

test('a WebSocket that closed before attach is refused and changes nothing', async () => {
  const p = await rawPeer(() => {});
  p.ws.terminate();
  await new Promise((r) => p.ws.once('close', r));
  assert.throws(() => p.relay.attach(p.ws, 0), /closed before it was attached/);
  assert.equal(p.relay.attached, false);
  assert.equal(p.relay.attachments, 0);
  p.relay.end('done');
  assert.equal((await within(p.relay.done, 5000, 'the end')).reason, 'done');
  p.close();
});

test('a replay from outside the bytes kept is refused with the typed error, and the session ends with a message', async () => {
  const p = await rawPeer(() => {});
  p.client.write('hello');
  await waitFor('the relay read the bytes', () => p.relay.sent === 5, 5000);
  assert.throws(
    () => p.relay.checkResume(6),
    (err: unknown) => err instanceof ResumeProtocolError && /outside the bytes kept \(0 to 5\)/.test(err.message),
  );
  assert.throws(
    () => p.relay.attach(p.ws, 6),
    (err: unknown) => err instanceof ResumeProtocolError && err.field === 'replay' && /only 5 were sent|outside/.test(err.message),
  );
  const result = await within(p.relay.done, 10_000, 'the end');
  assert.ok(result.error instanceof ResumeProtocolError);
  assert.match(result.reason, /replay from byte 6/);
  const closed = await p.peerClosed;
  assert.equal(closed.code, 1002);
  assert.match(closed.reason, /replay from byte 6/);
  assert.ok(await endedWithin(p.client, 5000));
  p.close();
});

test('a break not resumed in time ends the session; end() gives up with 1011', async () => {
  const a = await rawPeer((peer) => peer.terminate(), { resumeTimeoutMs: 100 });
  const detached = new Promise<string>((r) => a.relay.once('detached', r));
  a.relay.attach(a.ws, 0);
  assert.equal(await within(detached, 5000, 'the break'), 'connection to the peer was lost');
  const result = await within(a.relay.done, 5000, 'the give-up');
  assert.match(result.reason, /^not resumed within 0.1 s \(connection to the peer was lost\)$/);
  assert.ok(await endedWithin(a.client, 5000));
  a.close();

  const b = await rawPeer(() => {});
  b.relay.attach(b.ws, 0);
  b.relay.end('the user stopped the tunnel');
  const closed = await within(b.peerClosed, 5000, 'the close');
  assert.deepEqual(closed, { code: 1011, reason: 'the user stopped the tunnel' });
  assert.equal((await b.relay.done).reason, 'the user stopped the tunnel');
  b.close();
});

test('a resume while the old WebSocket still works replaces it, mid-transfer, and nothing is lost or doubled', async () => {
  const size = 8 * MiB;
  const rig = await startRig({ window: MiB });
  const reasons: string[] = [];
  rig.nearRelay.on('detached', (reason) => reasons.push(reason));
  const got = digestOf(firstBytes(rig.far, size));
  patternStream(size, 'replaced').pipe(rig.near, { end: false });
  for (const at of [2 * MiB, 5 * MiB]) {
    await waitFor(`${at} bytes through`, () => rig.farRelay.received >= at, 20_000);
    await rig.resume(); // both ends still attached: each drops its old WebSocket for the new one
  }
  const r = await within(got, 30_000, 'the transfer');
  assert.equal(r.sha256, await patternDigest(size, 'replaced'));
  assert.deepEqual(reasons, ['replaced by a new WebSocket', 'replaced by a new WebSocket']);
  assert.equal(rig.nearRelay.attachments, 3);
  assert.equal(rig.farRelay.attachments, 3);
  rig.near.end();
  const [near] = await within(Promise.all([rig.nearRelay.done, rig.farRelay.done]), 10_000, 'the end');
  assert.equal(near.reason, 'stream ended');
  assert.equal(near.resumes, 2);
});
