/**
 * Running out of file descriptors, said as what it is. Every tunnel holds
 * two in each process (the client's connection and the next hop's), so a
 * process at its limit cannot accept or dial any more; Node reports that as
 * `EMFILE` (the process's limit) or `ENFILE` (the system's), which would
 * otherwise surface as `cannot reach ws://… Local (undefined:undefined)`.
 */
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';

/** Descriptors one tunnel holds in each process it passes (`wssh connect`, `wssh server`). */
export const DESCRIPTORS_PER_TUNNEL = 2;

export function outOfDescriptors(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/** This process's soft limit on open descriptors, when the system tells (Linux: /proc). */
export function descriptorLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

// Read at start: once they have run out, reading /proc takes a descriptor too.
const LIMIT_AT_START = descriptorLimit();

/** One line for the log: what ran out and what to do about it. */
export function descriptorsMessage(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENFILE') return 'the system is out of file descriptors (ENFILE): raise fs.file-max';
  const limit = descriptorLimit() ?? LIMIT_AT_START;
  const tunnels = limit ? ` (about ${Math.floor(limit / DESCRIPTORS_PER_TUNNEL)} tunnels)` : '';
  return (
    `out of file descriptors (EMFILE: the limit is ${limit ?? 'unknown'}${tunnels}, ${DESCRIPTORS_PER_TUNNEL} per tunnel): ` +
    'raise it (ulimit -n, LimitNOFILE= in the systemd unit) or lower the number of tunnels'
  );
}

/**
 * Exhaustion in a process (the server, the local proxy): one log line per
 * burst and a count, instead of a line per failed connection (a process out
 * of descriptors fails every accept: the journal would fill with the same
 * line) or none at all.
 *
 * When accept() itself hits the limit, libuv closes the pending connections
 * without telling Node (its "EMFILE trick"), so those drops are invisible;
 * what is visible is a tunnel whose outgoing connect cannot get a descriptor,
 * an accept error that libuv does pass on, and what `watchAccepts` finds.
 * Each is counted here, and the first of a burst (none in the previous
 * `quietMs`) is logged, with how many there were since the last line.
 */
export class DescriptorAlarm {
  /** Every exhaustion seen since start. */
  total = 0;
  private lastAt = -Infinity;
  private sinceLine = 0;

  constructor(
    private readonly log: (line: string) => void,
    /** A burst ends after this long without an exhaustion, in ms. @default 10000 */
    public quietMs = 10_000,
  ) {}

  /** Records one exhaustion (`what` failed: "a connect to db1.lan:22"); logs the first of a burst. */
  note(what: string, err: NodeJS.ErrnoException): void {
    this.total++;
    this.sinceLine++;
    const now = Date.now();
    const quiet = now - this.lastAt > this.quietMs;
    this.lastAt = now;
    if (!quiet) return;
    const more = this.sinceLine > 1 ? `; ${this.sinceLine - 1} more since the last such line` : '';
    this.sinceLine = 0;
    this.log(`${descriptorsMessage(err)}; connections are being dropped (${what} failed${more})`);
  }
}

/**
 * Whether one more descriptor can be opened now: the null device is opened
 * and closed again (about a microsecond). The error (EMFILE, ENFILE) when
 * none can; undefined otherwise, and for any other failure.
 */
export function descriptorShortage(): NodeJS.ErrnoException | undefined {
  try {
    fs.closeSync(fs.openSync(os.devNull, 'r'));
    return undefined;
  } catch (err) {
    return outOfDescriptors(err) ? (err as NodeJS.ErrnoException) : undefined;
  }
}

/** How often a listening process checks that it could still accept a connection, in ms. */
export const ACCEPT_CHECK_INTERVAL_MS = 1000;

/**
 * Watches a listening server for the drops libuv does not report: at the
 * descriptor limit, its accept() fails with EMFILE, and libuv accepts the
 * connection on a descriptor it keeps spare and closes it at once, telling
 * Node nothing (400 idle connections under `ulimit -n 128`: no error, no
 * line). So the process checks itself: after each accepted connection (the
 * one that may have taken the last descriptor) and once every `everyMs`
 * while it listens, that one more descriptor can be opened; when none can,
 * connections arriving now are dropped, and `onShortage` is told (the
 * owner's DescriptorAlarm logs one line per burst). Not on Windows, where
 * libuv passes accept errors on. Returns the function that stops watching.
 */
export function watchAccepts(server: net.Server, onShortage: (err: NodeJS.ErrnoException) => void, everyMs = ACCEPT_CHECK_INTERVAL_MS): () => void {
  if (process.platform === 'win32') return () => {};
  const check = () => {
    const err = descriptorShortage();
    if (err) onShortage(err);
  };
  server.on('connection', check);
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => {
    server.off('connection', check);
    clearInterval(timer);
  };
}
