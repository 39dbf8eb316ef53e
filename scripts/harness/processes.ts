/**
 * Child processes for the scripts (bench, soak) and the tests alike:
 * long-running daemons (wssh, relays, nginx, sshd), one-shot programs
 * (openssl, ssh, plink) run to completion, and what /proc says about them
 * (memory, CPU, descriptors).
 *
 * Daemons are stopped by PID, never by name, and are also killed when this
 * process exits, so a failed or forgotten stop() cannot leave one running on
 * the machine. A running daemon does not keep this process alive on its own
 * (it is unref'd), so a forgotten stop() cannot hang a test file either.
 *
 * Lives beside the scripts because scripts may not import test/; the
 * fixtures import it from here.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { freePort, waitForPort } from './ports';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kill `child` (SIGTERM) if this process exits while it still runs. */
export function killOnExit(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers may only do synchronous work: sending a signal is enough.
    process.on('exit', () => {
      for (const c of live) c.kill('SIGTERM');
    });
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Exit status, or undefined while it runs. */
  exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** The last 64 KiB of its stdout and stderr, for error messages. */
  output(): string;
  /** Send `signal`, wait for exit; SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

const MAX_OUTPUT = 64 * 1024;

export function spawnDaemon(name: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Daemon {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let out = '';
  const collect = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-MAX_OUTPUT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let status: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      status = { code, signal };
      resolve();
    });
  });
  // A spawn failure (ENOENT, EACCES) arrives as 'error' without 'exit'.
  child.once('error', (err) => {
    collect(Buffer.from(`spawn ${command}: ${err.message}\n`));
    status ??= { code: null, signal: null };
  });
  const setRef = (ref: boolean) => {
    for (const h of [child, child.stdout, child.stderr] as Array<{ ref?(): void; unref?(): void } | null>) {
      if (ref) h?.ref?.();
      else h?.unref?.();
    }
  };
  setRef(false);

  return {
    name,
    child,
    pid: child.pid ?? -1,
    exitStatus: () => status,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000) {
      if (status || child.pid === undefined) return;
      setRef(true); // keep the process alive until the exit is seen
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** "exit code 1", "signal SIGKILL", or undefined while `daemon` runs. */
export function describeExit(daemon: Daemon): string | undefined {
  const status = daemon.exitStatus();
  if (!status) return undefined;
  return status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
}

/** Resolves with the match once `daemon`'s output matches `pattern`; rejects when it exits first or after `timeoutMs`. */
export function waitForOutput(daemon: Daemon, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`${daemon.name} did not print ${pattern} within ${timeoutMs / 1000} s:\n${daemon.output()}`));
    }, timeoutMs);
    const poll = setInterval(() => {
      const match = pattern.exec(daemon.output());
      if (!match && !daemon.exitStatus()) return;
      clearInterval(poll);
      clearTimeout(deadline);
      if (match) resolve(match);
      else reject(new Error(`${daemon.name} exited (${describeExit(daemon)}) before it printed ${pattern}:\n${daemon.output()}`));
    }, 20);
  });
}

/**
 * Resolves once `port` on 127.0.0.1 takes a connection; rejects when `daemon`
 * exits first (saying so, with `detail()`: its output unless given) or after
 * `timeoutMs`.
 */
export function daemonListening(daemon: Daemon, port: number, timeoutMs = 10_000, detail: () => string = () => daemon.output()): Promise<void> {
  return waitForPort(port, '127.0.0.1', timeoutMs, () => {
    const exit = describeExit(daemon);
    return exit ? new Error(`${daemon.name} exited (${exit}) before listening:\n${detail()}`) : undefined;
  });
}

/**
 * Starts a daemon that listens on a port of its config (sshd, nginx, squid…)
 * on a port that was free a moment ago. Another process may take it before
 * the daemon binds it, and the daemon then fails: so up to three times, each
 * on a new port. `start(port, attempt)` writes the config and spawns it;
 * `ready` resolves once it serves (default: daemonListening). A daemon that
 * did not get there is killed, and the last failure is thrown.
 */
export async function startOnFreePort(
  start: (port: number, attempt: number) => Daemon | Promise<Daemon>,
  ready: (daemon: Daemon, port: number) => Promise<unknown> = (daemon, port) => daemonListening(daemon, port),
): Promise<{ daemon: Daemon; port: number }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const daemon = await start(port, attempt);
    try {
      await ready(daemon, port);
      return { daemon, port };
    } catch (err) {
      lastError = err;
      await daemon.stop('SIGKILL');
    }
  }
  throw lastError;
}

export interface ListeningDaemon extends Daemon {
  /** The port it said it listens on. */
  port: number;
}

/**
 * Starts `command args` and resolves once its output matches `ready`, whose
 * group 1 is the port it listens on. A daemon that does not get there is
 * stopped and the error carries its output.
 */
export async function startListening(
  name: string,
  command: string,
  args: string[],
  ready: RegExp,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ListeningDaemon> {
  const daemon = spawnDaemon(name, command, args, { env: options.env });
  try {
    const match = await waitForOutput(daemon, ready, options.timeoutMs);
    return { ...daemon, port: Number(match[1]) };
  } catch (err) {
    await daemon.stop('SIGKILL');
    throw err;
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin, which is then closed; a stream is piped. Default: /dev/null. */
  input?: Buffer | string | Readable;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the program (SIGKILL) and reject after this long. Default 30 s. */
  timeoutMs?: number;
}

/**
 * Run a program to completion and collect its output. A non-zero exit is a
 * result, not an error (tests check failures too); a timeout rejects, with
 * what the program printed so far.
 */
export function runProgram(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    killOnExit(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => stdout.push(c));
    child.stderr!.on('data', (c: Buffer) => stderr.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const input = options.input;
    if (input !== undefined && child.stdin) {
      // The program may exit without reading all of its input (EPIPE): not our error.
      child.stdin.on('error', () => {});
      if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
      else input.pipe(child.stdin);
    }
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command}: ${err.message}`));
    });
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const result: RunResult = {
        code,
        signal,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
      if (timedOut) {
        reject(
          new Error(
            `${command} ${args.join(' ')}: no exit within ${timeoutMs} ms\n` +
              `stdout: ${result.stdout.toString('utf8').slice(-2000)}\nstderr: ${result.stderr.slice(-2000)}`,
          ),
        );
      } else {
        resolve(result);
      }
    };
    // 'close' comes after 'exit' once all output has been read. A grandchild
    // that inherited stderr (ssh's ProxyCommand, say) can hold the pipe open
    // after the program itself is gone: then stop waiting after a grace period.
    child.once('close', finish);
    child.once('exit', (code, signal) => {
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(code, signal);
      }, 2000).unref();
    });
  });
}

/** runProgram that insists on exit code 0 (for setup steps like ssh-keygen). */
export async function runChecked(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await runProgram(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.code ?? result.signal}: ${result.stderr}`);
  }
  return result;
}

/** A field of /proc/PID/status in bytes (VmHWM: peak resident set; VmRSS: current). */
export function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User plus system CPU seconds the process has used so far, from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after "(comm)": state is the first, utime the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** How many descriptors the process has open ('self': this one). */
export function openFds(pid: number | 'self'): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * Waits until `pid` holds at most `limit` descriptors, as sockets a peer
 * closed are released a moment later; returns the last count, which is over
 * `limit` only when `timeoutMs` passed first (the caller says what that means).
 */
export async function fdsSettle(pid: number | 'self', limit: number, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = openFds(pid);
    if (n <= limit || Date.now() > deadline) return n;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A baseline of `pid`'s descriptors: waits until their count has stayed the
 * same for `quietMs` (sockets of a warm-up that were just closed are
 * released, a process just started has opened what it opens at start), and
 * returns it; after `timeoutMs` returns the count as it is.
 */
export async function fdsSteady(pid: number | 'self', quietMs = 300, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let n = openFds(pid);
  let since = Date.now();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = openFds(pid);
    if (now !== n) [n, since] = [now, Date.now()];
    if (Date.now() - since >= quietMs || Date.now() > deadline) return n;
  }
}

/** The soft and hard limits on open descriptors of a process, from /proc/PID/limits. */
export function fdLimits(pid: number = process.pid): { soft: number; hard: number } {
  const limits = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  const n = (s: string | undefined) => (s === undefined || s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(match?.[1]), hard: n(match?.[2]) };
}

/**
 * Raises this process's soft descriptor limit toward `wanted` (never above
 * the hard limit) with util-linux's prlimit; children inherit it. Returns the
 * soft limit in force afterwards: a caller that needs more says so.
 */
export function raiseFdLimit(wanted: number): number {
  const { soft, hard } = fdLimits();
  const target = Math.min(wanted, hard);
  if (soft >= target) return soft;
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${hard === Infinity ? 'unlimited' : hard}`], {
      stdio: 'ignore',
    });
  } catch {
    // prlimit missing or not permitted: the limit stays, the caller sees it.
  }
  return fdLimits().soft;
}
