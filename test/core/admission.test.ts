// Admission of a burst on real sockets: more connections at once than a
// turn of the event loop admits all get served, a batch per turn, in order;
// a full queue and a waiter past its deadline are refused, not dropped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { DialQueue, QueueWaitError, admitConnections, type AdmissionRefusal } from '../../src/core/inbound/admission';

interface Served {
  server: net.Server;
  /** Where clients connect. */
  port: number;
  /** The turn (a counter moved by setImmediate) each connection was handed on in. */
  turns: number[];
  refusals: AdmissionRefusal[];
  close(): Promise<void>;
}

/**
 * A server whose connections come in one burst: a listening server collects
 * `burst` accepted sockets, then hands them all to the admitted server in
 * the same instant (Node accepts about one connection per turn of the loop,
 * so a burst cannot be made from this process otherwise).
 */
async function serve(options: Parameters<typeof admitConnections>[1], burst: number, slowSecondMs = 0): Promise<Served> {
  const turns: number[] = [];
  const refusals: AdmissionRefusal[] = [];
  let turn = 0;
  let running = true;
  const count = () => {
    turn++;
    if (running) setImmediate(count);
  };
  setImmediate(count);
  const sockets = new Set<net.Socket>();
  // The handler an HTTP server would have: answers one line, from the bytes sent before admission.
  const server = net.createServer((socket) => {
    if (turns.length === 1) busy(slowSecondMs);
    turns.push(turn);
    socket.once('data', (chunk) => socket.end(`ok ${chunk.toString()}`));
  });
  admitConnections(server, options, (socket, refusal) => {
    refusals.push(refusal);
    socket.end(`refused ${refusal.code}`);
  });
  const collected: net.Socket[] = [];
  const front = net.createServer((socket) => {
    sockets.add(socket);
    collected.push(socket);
    if (collected.length < burst) return;
    for (const s of collected.splice(0)) server.emit('connection', s);
  });
  await new Promise<void>((r) => front.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
  return {
    server,
    port: (front.address() as net.AddressInfo).port,
    turns,
    refusals,
    close: async () => {
      running = false;
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => front.close(() => r()));
    },
  };
}

/** Keeps the event loop busy: connections made meanwhile are accepted together, as in a real burst. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

function ask(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (c) => (answer += c.toString()));
    socket.once('end', () => resolve(answer));
    socket.once('error', reject);
  });
}

test('a burst larger than a batch: every connection is served, at most a batch per turn, with what it sent while it waited', async () => {
  const s = await serve({ batch: 4 }, 200);
  try {
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => ask(s.port, `c${i}`)));
    answers.forEach((a, i) => assert.equal(a, `ok c${i}`));
    assert.equal(s.refusals.length, 0);
    const perTurn = new Map<number, number>();
    for (const turn of s.turns) perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
    assert.ok(Math.max(...perTurn.values()) <= 4, `at most 4 per turn: ${JSON.stringify([...perTurn])}`);
  } finally {
    await s.close();
  }
});

test('a full queue refuses the next connection at once; the waiting ones are still served', async () => {
  // A batch of 1 and a queue of 5: of 40 connections at once, most find the queue full.
  const s = await serve({ batch: 1, maxQueue: 5 }, 40);
  try {
    const pending = Promise.all(Array.from({ length: 40 }, (_, i) => ask(s.port, `c${i}`)));
    const answers = await pending;
    const served = answers.filter((a) => a.startsWith('ok'));
    const refused = answers.filter((a) => a === 'refused queue-full');
    assert.equal(served.length + refused.length, 40, JSON.stringify(answers));
    assert.ok(refused.length > 0, 'some were refused');
    assert.ok(served.length >= 1, 'some were served');
    assert.ok(s.refusals.every((r) => r.code === 'queue-full' && /5 connections already waiting/.test(r.reason)));
  } finally {
    await s.close();
  }
});

test('a connection that waited past the deadline is refused when its turn comes', async () => {
  // The second connection admitted keeps the process busy for 100 ms: the others wait past their 10 ms.
  const s = await serve({ batch: 1, queueTimeoutMs: 10 }, 20, 100);
  try {
    const pending = Promise.all(Array.from({ length: 20 }, (_, i) => ask(s.port, `c${i}`)));
    const all = await pending;
    const refused = all.filter((a) => a === 'refused queue-timeout');
    assert.equal(refused.length + all.filter((a) => a.startsWith('ok')).length, 20, JSON.stringify(all));
    assert.ok(refused.length > 0, JSON.stringify(all));
    assert.ok(s.refusals.every((r) => r.code === 'queue-timeout' && /not admitted within 0.01s/.test(r.reason)));
  } finally {
    await s.close();
  }
});

test('the dial queue: at most its concurrency at once, the rest in order; a wait past the deadline or an abandoned wait is an error', async () => {
  // The order is checked on a queue whose deadline no busy machine reaches; the deadline on one where nothing else waits.
  const queue = new DialQueue(2, 60_000);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const task = async (i: number) => {
    const release = await queue.acquire();
    running++;
    most = Math.max(most, running);
    order.push(i);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    release();
    release(); // a second release changes nothing
  };
  await Promise.all(Array.from({ length: 10 }, (_, i) => task(i)));
  assert.equal(most, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

  const short = new DialQueue(2, 200);
  const held = [await short.acquire(), await short.acquire()];
  await assert.rejects(short.acquire(), (err: QueueWaitError) => !err.aborted && /not dialled within 0.2s/.test(err.message));
  const abort = new AbortController();
  const waiting = short.acquire(abort.signal);
  assert.equal(short.queued, 1);
  abort.abort();
  await assert.rejects(waiting, (err: QueueWaitError) => err.aborted);
  assert.equal(short.queued, 0);
  held.forEach((release) => release());
  (await short.acquire())();
});
