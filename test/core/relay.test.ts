// The relay on real sockets: TCP <-> Relay <-> WebSocket <-> Relay <-> TCP,
// both relays in this process, so a test can look at each hop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { MAX_CLOSE_REASON_BYTES, Relay, RelayResult, closeReason } from '../../src/core/tunnel/relay';
import { digestOf, firstBytes, patternDigest, patternStream } from '../fixtures/byteStreams';
import { within } from '../fixtures/tunnel';

interface Pair {
  /** The far TCP end (what an sshd would be). */
  far: net.Socket;
  /** The near TCP end (what PuTTY would be). */
  near: net.Socket;
  nearRelay: Relay;
  farRelay: Relay;
  /** The far relay's own TCP socket (the server's connection to sshd). */
  farStream: net.Socket;
  /** The near relay's WebSocket (the client's). */
  ws: WebSocket;
  close(): void;
}

/**
 * near <-TCP-> [nearRelay] <-WebSocket-> [farRelay] <-TCP-> far
 */
async function relayPair(options: { keepaliveMs?: number; highWaterMark?: number } = {}): Promise<Pair> {
  const opts = { keepaliveMs: 0, ...options };
  const farServer = net.createServer({ allowHalfOpen: true });
  const nearServer = net.createServer({ allowHalfOpen: true });
  const http1 = http.createServer();
  const wss = new WebSocketServer({ server: http1, perMessageDeflate: false });
  await Promise.all([farServer, nearServer, http1].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const port = (s: net.Server | http.Server) => (s.address() as net.AddressInfo).port;

  const farAccepted = new Promise<net.Socket>((r) => farServer.once('connection', r));
  const farRelay = new Promise<{ relay: Relay; tcp: net.Socket }>((resolve) => {
    wss.once('connection', (ws) => {
      const tcp = net.connect({ port: port(farServer), host: '127.0.0.1', allowHalfOpen: true }, () => resolve({ relay: new Relay(tcp, ws, opts), tcp }));
    });
  });
  const ws = new WebSocket(`ws://127.0.0.1:${port(http1)}/`, { perMessageDeflate: false });
  await new Promise((r) => ws.once('open', r));
  const nearAccepted = new Promise<net.Socket>((r) => nearServer.once('connection', r));
  const near = net.connect({ port: port(nearServer), host: '127.0.0.1', allowHalfOpen: true });
  const nearSide = await nearAccepted;
  const nearRelay = new Relay(nearSide, ws, opts);
  const far = await farRelay;
  const pair = { far: await farAccepted, near, nearRelay, farRelay: far.relay, farStream: far.tcp, ws };
  // Like an SSH client and server: each is done when the other side is.
  pair.near.on('end', () => pair.near.end());
  pair.far.on('end', () => pair.far.end());
  return {
    ...pair,
    close() {
      pair.near.destroy();
      pair.far.destroy();
      for (const client of wss.clients) client.terminate();
      wss.close();
      http1.close();
      http1.closeAllConnections();
      farServer.close();
      nearServer.close();
    },
  };
}

test('64 MiB each way at once, byte-exact, both directions concurrently', async () => {
  const size = 64 * 1024 * 1024;
  const pair = await relayPair();
  const expectedUp = patternDigest(size, 'up');
  const expectedDown = patternDigest(size, 'down');
  // A WebSocket has no half-close: the first FIN ends the whole tunnel once its
  // bytes are through. So neither side ends before both have everything.
  const up = digestOf(firstBytes(pair.far, size));
  const down = digestOf(firstBytes(pair.near, size));
  patternStream(size, 'up').pipe(pair.near, { end: false });
  patternStream(size, 'down').pipe(pair.far, { end: false });
  const [u, d] = await Promise.all([up, down]);
  assert.equal(u.bytes, size);
  assert.equal(u.sha256, await expectedUp);
  assert.equal(d.bytes, size);
  assert.equal(d.sha256, await expectedDown);
  pair.close();
});

test('the far end closing right after its last byte loses nothing, and the close reaches the near end', async () => {
  const size = 8 * 1024 * 1024;
  const pair = await relayPair();
  const got = digestOf(pair.near);
  patternStream(size, 'eof').pipe(pair.far); // pipe ends the socket after the last byte
  const result = await got;
  assert.equal(result.bytes, size);
  assert.equal(result.sha256, await patternDigest(size, 'eof'));
  const [near, far] = await Promise.all([pair.nearRelay.done, pair.farRelay.done]);
  assert.equal(far.reason, 'stream ended');
  assert.match(near.reason, /peer closed the WebSocket \(1000 EOF\)/);
  assert.equal(far.toWebSocket, size);
  assert.equal(near.toStream, size);
  pair.close();
});

test('backpressure: a reader that stops reading stalls the writer instead of filling memory', async () => {
  const pair = await relayPair({ highWaterMark: 256 * 1024 });
  pair.near.pause(); // the SSH client stops reading
  let written = 0;
  const chunk = Buffer.alloc(64 * 1024, 1);
  // Write until the far socket reports a full buffer for good.
  const stalled = await new Promise<boolean>((resolve) => {
    const pump = () => {
      while (written < 256 * 1024 * 1024) {
        written += chunk.length;
        if (!pair.far.write(chunk)) {
          const timer = setTimeout(() => resolve(true), 1000);
          pair.far.once('drain', () => {
            clearTimeout(timer);
            pump();
          });
          return;
        }
      }
      resolve(false);
    };
    pump();
  });
  assert.ok(stalled, 'the writer was stopped by backpressure');
  // What is in flight: kernel buffers of two TCP hops and the WebSocket hop,
  // plus at most the high-water mark and one socket buffer in each relay.
  const inFlight = written - pair.near.bytesRead;
  assert.ok(inFlight < 32 * 1024 * 1024, `only ${inFlight} bytes in flight`);
  // And the far relay stopped reading too: it holds no more than its share.
  assert.ok(pair.farRelay.toWebSocket - pair.nearRelay.toStream <= 8 * 1024 * 1024);
  pair.close();
});

test('a text frame is reported and never written into the stream', async () => {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  wss.on('connection', (ws) => {
    ws.send(Buffer.from('binary-1'));
    ws.send('an old server error');
    ws.send(Buffer.from('binary-2'), () => ws.close());
  });
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`);
  // Paused as dial() hands it over, so no frame is emitted before the relay listens.
  await new Promise<void>((r) => ws.once('open', () => r(ws.pause())));
  const tcp = await tcpPair();
  const texts: string[] = [];
  const relay = new Relay(tcp.a, ws, { keepaliveMs: 0 });
  relay.on('text', (t) => texts.push(t));
  const received = collect(tcp.b);
  const result = await relay.done;
  assert.equal((await received).toString(), 'binary-1binary-2');
  assert.deepEqual(texts, ['an old server error']);
  assert.equal(result.peerMessage, 'an old server error');
  assert.equal(result.reason, 'peer said: an old server error');
  tcp.close();
  for (const client of wss.clients) client.terminate();
  wss.close();
  server.close();
  server.closeAllConnections();
});

test('keepalive: a peer that stops answering pings is dropped after two missed pings', async () => {
  const server = http.createServer();
  // autoPong off: this peer never answers a ping, like one behind a dead NAT.
  const wss = new WebSocketServer({ server, autoPong: false });
  // What the peer saw, counted rather than timed: the pings, then the end.
  let pings = 0;
  const peerClosed = new Promise<void>((resolve) =>
    wss.once('connection', (peer) => {
      peer.on('ping', () => pings++);
      peer.once('close', () => resolve());
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`);
  await new Promise((r) => ws.once('open', r));
  const tcp = await tcpPair();
  const relay = new Relay(tcp.a, ws, { keepaliveMs: 100 });
  const result: RelayResult = await relay.done;
  assert.match(result.reason, /ping timeout/);
  await peerClosed;
  assert.equal(pings, 2, 'dropped once two pings went unanswered, not before, not after more');
  tcp.close();
  for (const client of wss.clients) client.terminate();
  wss.close();
  server.close();
  server.closeAllConnections();
});

test('keepalive: a peer that answers pings keeps an idle tunnel open', async () => {
  const pair = await relayPair({ keepaliveMs: 50 });
  await new Promise((r) => setTimeout(r, 400));
  pair.near.write('still there?');
  const got = await new Promise<string>((r) => pair.far.once('data', (d) => r(d.toString())));
  assert.equal(got, 'still there?');
  pair.close();
});

test('an error on the TCP side closes the WebSocket and ends the other side', async () => {
  const pair = await relayPair();
  const nearEnded = new Promise((r) => pair.near.once('end', r));
  pair.far.resetAndDestroy();
  await nearEnded;
  const far = await pair.farRelay.done;
  assert.match(far.reason, /stream error: ECONNRESET|stream closed/);
  pair.close();
});

test('a close reason is cut to 123 bytes on a character boundary', () => {
  assert.equal(MAX_CLOSE_REASON_BYTES, 123);
  const fits = 'é'.repeat(61) + 'x'; // 123 bytes: kept whole
  assert.equal(closeReason(fits), fits);
  assert.equal(closeReason(fits + 'x'), 'é'.repeat(60) + '…'); // 120 bytes and the 3 of "…"
  assert.equal(closeReason('x' + '😀'.repeat(40)), 'x' + '😀'.repeat(29) + '…'); // never half a surrogate pair
  assert.equal(closeReason('EOF'), 'EOF');
});

test('a reason of multibyte characters past 123 bytes: no throw, the peer gets a valid close with it cut on a character boundary', async () => {
  const pair = await relayPair();
  const peerClose = new Promise<{ code: number; reason: Buffer }>((resolve) => pair.ws.once('close', (code, reason) => resolve({ code, reason })));
  const peerErrors: Error[] = [];
  pair.ws.on('error', (err) => peerErrors.push(err));
  // "stream error: " and 40 four-byte characters, 174 bytes: byte 123 falls inside one.
  pair.farStream.destroy(new Error('😀'.repeat(40)));
  const { code, reason } = await within(peerClose, 10_000, 'the close at the peer');
  const text = reason.toString('utf8');
  assert.deepEqual(Buffer.from(text), reason, 'the reason is valid UTF-8');
  assert.ok(reason.length <= 123, `${reason.length} bytes`);
  assert.equal(code, 1011);
  assert.equal(text, `stream error: ${'😀'.repeat(26)}…`);
  assert.deepEqual(peerErrors, []);
  const [far, near] = await within(Promise.all([pair.farRelay.done, pair.nearRelay.done]), 10_000, 'both relays to end');
  assert.equal(far.reason, `stream error: ${'😀'.repeat(40)}`);
  assert.equal(near.reason, `peer closed the WebSocket (1011 stream error: ${'😀'.repeat(26)}…)`);
  pair.close();
});

async function tcpPair(): Promise<{ a: net.Socket; b: net.Socket; close(): void }> {
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const b = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  b.on('end', () => b.end()); // like an SSH client: done when the server is
  const a = await accepted;
  return {
    a,
    b,
    close() {
      a.destroy();
      b.destroy();
      server.close();
    },
  };
}

function collect(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
  });
}
