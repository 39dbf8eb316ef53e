/**
 * A TCP relay that a test, the bench or the soak can break, between any two
 * hops of a tunnel (the local proxy and the server, nginx and a server), in
 * the ways a network breaks:
 * - `destroy`: both ends see the connection go (a reset, a proxy's cut);
 * - `stall`: it stops forwarding and closes nothing, as a dead NAT or a
 *   sleeping laptop would (only pings or acks find it);
 * and `block()` refuses new connections for a while (the network is down).
 */
import net from 'node:net';

export type CutKind = 'destroy' | 'stall';

export class Cutter {
  /** Bytes forwarded both ways, over every connection. */
  forwarded = 0;
  cuts = 0;
  /** Connections accepted, over its life. */
  connections = 0;
  private live = new Set<{ a: net.Socket; b: net.Socket; stalled: boolean }>();
  private stalled: net.Socket[] = [];
  private plan: { at: number; kind: CutKind }[] = [];
  private blocked = false;
  readonly server: net.Server;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {
    // Without Nagle, as a network forwards: a relay that held back small
    // writes for the peer's delayed ACK added 40 ms to each TLS handshake.
    this.server = net.createServer({ noDelay: true }, (a) => {
      if (this.blocked) {
        a.on('error', () => {});
        a.destroy();
        return;
      }
      this.connections++;
      const b = net.connect({ port: this.targetPort, host: this.targetHost, noDelay: true });
      const pair = { a, b, stalled: false };
      this.live.add(pair);
      const forward = (from: net.Socket, to: net.Socket) => {
        from.on('error', () => {});
        from.on('data', (chunk: Buffer) => {
          if (pair.stalled) return;
          this.forwarded += chunk.length;
          if (!to.write(chunk)) {
            from.pause();
            to.once('drain', () => pair.stalled || from.resume());
          }
          this.followPlan();
        });
        // A stalled pair tells neither end anything, whatever happens to the other.
        from.on('close', () => {
          if (pair.stalled) return;
          this.live.delete(pair);
          to.destroy();
        });
      };
      forward(a, b);
      forward(b, a);
    });
  }

  /** Listens on 127.0.0.1, on a free port unless one is given. */
  listen(port = 0): Promise<number> {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => resolve(this.port)));
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Connections open (not stalled) now. */
  get open(): number {
    return this.live.size;
  }

  /** Breaks every connection now. */
  cut(kind: CutKind): void {
    this.cuts++;
    for (const pair of this.live) {
      if (kind === 'destroy') {
        pair.a.destroy();
        pair.b.destroy();
      } else {
        pair.stalled = true;
        pair.a.pause();
        pair.b.pause();
        this.stalled.push(pair.a, pair.b);
      }
    }
    this.live.clear();
  }

  /** Cuts once `forwarded` passes each offset. */
  cutAt(plan: { at: number; kind: CutKind }[]): void {
    this.plan = [...plan].sort((x, y) => x.at - y.at);
  }

  /** While blocked, new connections are closed at once (the way is down); open ones are left as they are. */
  block(blocked = true): void {
    this.blocked = blocked;
  }

  private followPlan(): void {
    while (this.plan.length > 0 && this.forwarded >= this.plan[0].at) this.cut(this.plan.shift()!.kind);
  }

  close(): void {
    for (const pair of this.live) {
      pair.a.destroy();
      pair.b.destroy();
    }
    for (const s of this.stalled) s.destroy();
    this.server.close();
  }
}
