// The process's buffer budget: its arithmetic, and on real sockets many
// tunnels whose readers stall: the bytes buffered across them stay near the
// budget, and once the readers read, every tunnel arrives byte-exact.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';
import { BufferBudget } from '../../src/core/tunnel/bufferBudget';
import { Relay } from '../../src/core/tunnel/relay';
import { patternDigest, startSource, type FarEnd } from '../fixtures/byteStreams';
import { waitFor } from '../fixtures/tunnel';

const KiB = 1024;
const MiB = 1024 * KiB;

test('an account counts its bytes in the budget; over the limit, only accounts above their share are full', () => {
  const budget = new BufferBudget(1 * MiB);
  const a = budget.open();
  const b = budget.open();
  assert.equal(budget.size, 2);
  assert.equal(budget.share(), 512 * KiB);
  a.add(900 * KiB);
  assert.equal(a.full(2 * MiB), false, 'under the limit: only the high-water mark counts');
  assert.equal(a.full(900 * KiB), true, 'at its own high-water mark');
  b.add(200 * KiB);
  assert.equal(budget.buffered, 1100 * KiB);
  assert.equal(a.full(2 * MiB), true, 'over the limit and above its share');
  assert.equal(b.full(2 * MiB), false, 'over the limit but below its share: keeps moving');
  assert.equal(budget.pausedByBudget, 1);
  a.remove(900 * KiB);
  assert.equal(a.full(2 * MiB), false);
  a.close();
  a.add(5); // after close: ignored
  assert.equal(budget.buffered, 200 * KiB);
  assert.equal(budget.size, 1);
  b.close();
  assert.equal(budget.buffered, 0);
  assert.throws(() => new BufferBudget(0), RangeError);
});

test('many tunnels with stalled readers: the bytes buffered across them stay near the budget; resumed, each arrives byte-exact', async (t) => {
  // Large enough per tunnel to get past the kernel's socket buffers on
  // loopback (up to about 10 MiB a connection once autotuned).
  const TUNNELS = 16;
  const SIZE = 16 * MiB;
  const LIMIT = 512 * KiB;
  const budget = new BufferBudget(LIMIT);
  // Per tunnel, what may exceed the limit: its share (at least 16 KiB) and
  // one read of 64 KiB in flight.
  const bound = LIMIT + TUNNELS * 128 * KiB;

  const source: FarEnd = await startSource(SIZE, 'budget');
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false });
  const relays: Relay[] = [];
  // The server side of each tunnel: the source -> Relay -> WebSocket, on the shared budget.
  wss.on('connection', (ws) => {
    ws.pause();
    const tcp = net.connect({ port: source.port, host: '127.0.0.1', allowHalfOpen: true }, () => {
      relays.push(new Relay(tcp, ws, { budget, keepaliveMs: 0 }));
    });
  });
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  const port = (httpServer.address() as net.AddressInfo).port;

  // The readers: WebSocket clients that do not read until told to.
  const clients = await Promise.all(
    Array.from({ length: TUNNELS }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
      await new Promise((r) => ws.once('open', r));
      ws.pause();
      const hash = crypto.createHash('sha256');
      let bytes = 0;
      ws.on('message', (data: Buffer) => {
        bytes += data.length;
        hash.update(data);
      });
      const closed = new Promise<{ bytes: number; sha256: string }>((resolve) => ws.once('close', () => resolve({ bytes, sha256: hash.digest('hex') })));
      return { ws, closed };
    }),
  );
  try {
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, budget.buffered)), 5);
    // The kernel's socket buffers fill first; then the budget must act.
    await waitFor(
      'the budget to pause a reader',
      () => budget.pausedByBudget > 0,
      30_000,
      () => `buffered ${budget.buffered}`,
    );
    await new Promise((r) => setTimeout(r, 500));
    clearInterval(sampler);
    most = Math.max(most, budget.buffered);
    t.diagnostic(
      `most buffered across ${TUNNELS} stalled tunnels: ${(most / KiB).toFixed(0)} KiB ` +
        `(limit ${LIMIT / KiB} KiB, bound ${bound / KiB} KiB; without the budget up to ${TUNNELS} x the tunnel buffer)`,
    );
    assert.ok(most <= bound, `buffered ${most} bytes, over ${bound}`);

    for (const c of clients) c.ws.resume();
    const expected = await patternDigest(SIZE, 'budget');
    const results = await Promise.all(clients.map((c) => c.closed));
    for (const r of results) assert.deepEqual(r, { bytes: SIZE, sha256: expected });
    await waitFor(
      'every relay to close',
      () => relays.length === TUNNELS && budget.size === 0,
      10_000,
      () => `${budget.size} accounts open`,
    );
    assert.equal(budget.buffered, 0);
  } finally {
    for (const c of clients) c.ws.terminate();
    wss.close();
    httpServer.closeAllConnections();
    httpServer.close();
    await source.close();
  }
});
