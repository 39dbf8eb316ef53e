/**
 * The Cutter (scripts/harness/cutter.ts) in a process of its own, driven
 * over IPC: the resume part's way between `wssh connect` and the server.
 *
 * In the bench's own process, beside a thousand clients and the far end
 * echoing for them, the Cutter forwarded in turns of the event loop that
 * lasted seconds (readable sockets kept coming within one poll), held back
 * the pongs and made the clients' pings (3 s) time out: resumes no network
 * would have caused. In a process of its own it forwards as a network does.
 *
 *   node cutterProcess.js TARGET_PORT      (a child with an IPC channel)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Cutter, type CutKind } from '../harness/cutter';
import { killOnExit } from '../harness/processes';

export interface CutterStats {
  /** Bytes forwarded both ways, over every connection. */
  forwarded: number;
  cuts: number;
  /** Connections accepted, over its life. */
  connections: number;
  /** Connections open now. */
  open: number;
  /** Connections the last cut broke. */
  lastCut: number;
}

type Request = { op: 'cut'; kind: CutKind } | { op: 'cutAt'; plan: Array<{ at: number; kind: CutKind }> } | { op: 'block'; blocked: boolean } | { op: 'stats' };

/** The parent's handle: each call answers once the child has done it, with the Cutter's counts after it. */
export class CutterProcess {
  private nextId = 0;
  private readonly waiting = new Map<number, (stats: CutterStats) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on('message', (m: { id: number; stats: CutterStats }) => {
      this.waiting.get(m.id)?.(m.stats);
      this.waiting.delete(m.id);
    });
  }

  /** Starts the child, relaying to 127.0.0.1:`targetPort`; resolves once it listens. */
  static start(targetPort: number): Promise<CutterProcess> {
    const child = fork(__filename, [String(targetPort)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    killOnExit(child);
    return new Promise((resolve, reject) => {
      child.once('message', (m: { listening: number }) => resolve(new CutterProcess(child, m.listening)));
      child.once('exit', (code, signal) => reject(new Error(`the cutter process ended before it listened (${code ?? signal})`)));
      child.once('error', reject);
    });
  }

  private ask(request: Request): Promise<CutterStats> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.reject(new Error('the cutter process has ended'));
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ id, ...request });
    });
  }

  /** Breaks every connection now. */
  cut(kind: CutKind): Promise<CutterStats> {
    return this.ask({ op: 'cut', kind });
  }

  /** Cuts once `forwarded` passes each offset. */
  cutAt(plan: Array<{ at: number; kind: CutKind }>): Promise<CutterStats> {
    return this.ask({ op: 'cutAt', plan });
  }

  /** While blocked, new connections are closed at once. */
  block(blocked = true): Promise<CutterStats> {
    return this.ask({ op: 'block', blocked });
  }

  stats(): Promise<CutterStats> {
    return this.ask({ op: 'stats' });
  }

  close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

/** The child: a Cutter that remembers how many connections its last cut broke. */
class CountingCutter extends Cutter {
  lastCut = 0;

  override cut(kind: CutKind): void {
    this.lastCut = this.open;
    super.cut(kind);
  }
}

function runChild(): void {
  const cutter = new CountingCutter(Number(process.argv[2]));
  const stats = (): CutterStats => ({
    forwarded: cutter.forwarded,
    cuts: cutter.cuts,
    connections: cutter.connections,
    open: cutter.open,
    lastCut: cutter.lastCut,
  });
  process.on('message', (m: { id: number } & Request) => {
    if (m.op === 'cut') cutter.cut(m.kind);
    else if (m.op === 'cutAt') cutter.cutAt(m.plan);
    else if (m.op === 'block') cutter.block(m.blocked);
    process.send!({ id: m.id, stats: stats() });
  });
  // The parent gone: nothing is left to cut for.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => {
    cutter.close();
    process.exit(0);
  });
  void cutter.listen().then((port) => process.send!({ listening: port }));
}

if (require.main === module) runChild();
