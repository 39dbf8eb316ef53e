/**
 * Admission of new connections under a burst (every client of a gateway
 * reconnecting after a network blip, a build farm opening hundreds of
 * tunnels together).
 *
 * Without it, a process that accepts 5000 connections at once starts 5000
 * handshakes at once: the header timeout of each runs from its accept, so
 * the ones the process was too busy to read get `408`, and the bytes of the
 * tunnels already open wait behind them. Instead, accepted connections wait
 * here, not read (their request stays in the kernel's buffer), and are
 * handed to the HTTP server a batch per turn of the event loop: the busier
 * the process, the slower the turns, so handshakes start at the rate the
 * process serves them. The header timeout starts when a connection is handed
 * on, so it measures how slow the client is, not how long the backlog took.
 *
 * The queue is bounded, and a connection waits at most `queueTimeoutMs`:
 * past either, it is refused (503, server busy) rather than kept for ever.
 */
import type net from 'node:net';

export interface AdmissionOptions {
  /** Connections handed on per turn of the event loop. @default 32 */
  batch?: number;
  /** Connections that may wait; the next one is refused at once. @default 20000 */
  maxQueue?: number;
  /** How long a connection may wait to be admitted, in ms; then it is refused. @default 30000 */
  queueTimeoutMs?: number;
}

export const DEFAULT_ADMISSION_BATCH = 32;
export const DEFAULT_ADMISSION_QUEUE = 20_000;
export const DEFAULT_ADMISSION_TIMEOUT_MS = 30_000;

/** Why a connection was not admitted: the log's and the client's reason. */
export type AdmissionRefusal = { code: 'queue-full' | 'queue-timeout'; reason: string };

interface Waiting {
  socket: net.Socket;
  since: number;
}

/**
 * Takes over `server`'s 'connection' listeners (Node's HTTP parser, or the
 * proxy's first-byte sniffer): each new connection is paused and queued, and
 * handed to them when admitted. `refuse` answers a connection that was not.
 */
export function admitConnections(
  server: net.Server,
  options: AdmissionOptions,
  refuse: (socket: net.Socket, refusal: AdmissionRefusal) => void,
): { readonly waiting: number } {
  const batch = options.batch ?? DEFAULT_ADMISSION_BATCH;
  const maxQueue = options.maxQueue ?? DEFAULT_ADMISSION_QUEUE;
  const timeoutMs = options.queueTimeoutMs ?? DEFAULT_ADMISSION_TIMEOUT_MS;
  const listeners = server.listeners('connection') as Array<(socket: net.Socket) => void>;
  server.removeAllListeners('connection');

  // A FIFO as an array and a head index: shift() on 20 000 entries is O(n).
  let queue: Waiting[] = [];
  let head = 0;
  const waiting = () => queue.length - head;
  /** Connections handed on since this turn of the event loop began. */
  let inTurn = 0;
  let ticking = false;

  const handOn = (socket: net.Socket) => {
    inTurn++;
    for (const listener of listeners) listener.call(server, socket);
    // Paused while it waited: Node's HTTP server (and the sniffer) read a
    // flowing socket.
    socket.resume();
  };

  const drain = () => {
    const now = Date.now();
    while (head < queue.length && inTurn < batch) {
      const { socket, since } = queue[head];
      queue[head++] = undefined as unknown as Waiting;
      if (socket.destroyed) continue; // the client gave up while it waited
      if (now - since > timeoutMs) {
        refuse(socket, { code: 'queue-timeout', reason: `server busy: not admitted within ${timeoutMs / 1000}s` });
        continue;
      }
      handOn(socket);
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    if (head < queue.length) nextTurn();
  };
  // A new turn: a new batch.
  const nextTurn = () => {
    if (ticking) return;
    ticking = true;
    setImmediate(() => {
      ticking = false;
      inTurn = 0;
      drain();
    });
  };

  server.on('connection', (socket: net.Socket) => {
    nextTurn();
    // Nothing waiting and the batch not spent: handed on at once, the common
    // case costs nothing.
    if (waiting() === 0 && inTurn < batch) {
      handOn(socket);
      return;
    }
    socket.on('error', () => {});
    if (waiting() >= maxQueue) {
      refuse(socket, { code: 'queue-full', reason: `server busy: ${maxQueue} connections already waiting` });
      return;
    }
    socket.pause();
    queue.push({ socket, since: Date.now() });
  });
  return {
    get waiting() {
      return waiting();
    },
  };
}

/**
 * Dials a local proxy runs at once (DialQueue); the rest wait their turn.
 * From `npm run bench -- --scale`, 5000 concurrent tunnels x 1 MiB on a
 * loaded 2-core machine: 128 left 97 of the dials to time out (15 s) in the
 * busy server's backlog; 32 left 456 waiting past their turn (Node accepts
 * one connection per turn of a busy loop, so fewer at once is not faster).
 */
export const DEFAULT_DIAL_CONCURRENCY = 128;
/** How long a tunnel may wait for its turn to dial, in ms; then it is refused (503 busy). */
export const DEFAULT_DIAL_WAIT_MS = 120_000;

/** Why a task did not get its turn: waited too long, or was abandoned. */
export class QueueWaitError extends Error {
  constructor(
    message: string,
    readonly aborted: boolean,
  ) {
    super(message);
  }
}

/**
 * At most `concurrency` tasks at once, the rest waiting in order, each at
 * most `maxWaitMs`. The local proxy dials through one: a burst of 5000
 * CONNECTs becomes a steady stream of dials, so the server's backlog stays
 * short and each dial's own handshake timeout measures the server's answer
 * to it, not the time this proxy's other dials took.
 */
export class DialQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency = DEFAULT_DIAL_CONCURRENCY,
    readonly maxWaitMs = DEFAULT_DIAL_WAIT_MS,
  ) {}

  /** Tasks waiting for their turn now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with the function that gives the turn back, once it is this task's turn. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    const release = this.releaser();
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const start = () => {
        cleanup();
        this.running++;
        resolve(release);
      };
      const fail = (err: QueueWaitError) => {
        cleanup();
        const at = this.waiting.indexOf(start);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(err);
      };
      const onAbort = () => fail(new QueueWaitError('the client went away while waiting to dial', true));
      const timer = setTimeout(() => fail(new QueueWaitError(`too busy: not dialled within ${this.maxWaitMs / 1000}s`, false)), this.maxWaitMs);
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(start);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const next = this.waiting.shift();
      if (next) next();
    };
  }
}
