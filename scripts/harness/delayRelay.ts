/**
 * A TCP relay that delays every byte by a fixed time each way: a link with
 * latency between two hops on loopback (the local proxy and the server), for
 * the bench's sizing of the resume window where `tc netem` is not to be had
 * (no network namespace, or a kernel without the netem qdisc).
 *
 * Each direction is a queue of chunks, each written `delayMs` after it was
 * read. The queue holds at most `maxQueued` bytes: past it the reading side
 * pauses, as a link's bandwidth × delay and the kernels' windows would stop a
 * sender. Keep it well above the window under test, so that the window, not
 * the link, is what limits.
 */
import net from 'node:net';

export interface DelayRelayOptions {
  /** One-way delay, ms. */
  delayMs: number;
  /** Bytes queued per direction before reading pauses. @default 64 MiB */
  maxQueued?: number;
}

/** One direction of a connection: chunks waiting for their time. */
class DelayLine {
  private readonly queue: Array<{ due: number; chunk: Buffer }> = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private waitingForDrain = false;
  private ended = false;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly delayMs: number,
    private readonly maxQueued: number,
  ) {
    from.on('data', (chunk: Buffer) => {
      this.queue.push({ due: performance.now() + delayMs, chunk });
      this.queued += chunk.length;
      if (this.queued >= maxQueued) from.pause();
      this.schedule();
    });
    from.on('end', () => {
      this.ended = true;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.waitingForDrain) return;
    const head = this.queue[0];
    if (!head) {
      if (this.ended) this.to.end();
      return;
    }
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.due - performance.now()));
  }

  private flush(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0].due <= now + 0.5) {
      const { chunk } = this.queue.shift()!;
      this.queued -= chunk.length;
      if (this.queued < this.maxQueued && this.from.isPaused()) this.from.resume();
      if (!this.to.write(chunk)) {
        this.waitingForDrain = true;
        this.to.once('drain', () => {
          this.waitingForDrain = false;
          this.schedule();
        });
        return;
      }
    }
    this.schedule();
  }

  close(): void {
    clearTimeout(this.timer);
  }
}

export class DelayRelay {
  readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly lines = new Set<DelayLine>();

  constructor(
    private readonly targetPort: number,
    options: DelayRelayOptions,
    private readonly targetHost = '127.0.0.1',
  ) {
    const maxQueued = options.maxQueued ?? 64 * 1024 * 1024;
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (a) => {
      const b = net.connect({ port: this.targetPort, host: this.targetHost, allowHalfOpen: true, noDelay: true });
      const pair = [new DelayLine(a, b, options.delayMs, maxQueued), new DelayLine(b, a, options.delayMs, maxQueued)];
      for (const line of pair) this.lines.add(line);
      let open = 2;
      for (const [s, other] of [
        [a, b],
        [b, a],
      ]) {
        this.sockets.add(s);
        s.on('error', () => {});
        // A clean close leaves the other side be: its FIN is still on the line, behind the bytes before it.
        s.once('close', (hadError) => {
          this.sockets.delete(s);
          if (hadError) other.destroy();
          if (--open > 0) return;
          for (const line of pair) {
            line.close();
            this.lines.delete(line);
          }
        });
      }
    });
  }

  /** Listens on 127.0.0.1, on a free port. */
  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve(this.port)));
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): void {
    for (const line of this.lines) line.close();
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}
