/**
 * A proxy auto-config (PAC) script: fetched or read once, compiled in a
 * sandbox, and asked `FindProxyForURL(url, host)` for each endpoint.
 *
 * The script is the network's code, not ours: it runs in QuickJS compiled to
 * WebAssembly (`pac-resolver` on `@tootallnate/quickjs-emscripten`, the pair
 * `pac-proxy-agent` uses), which sees only the PAC functions (`shExpMatch`,
 * `dnsResolve`, `isInNet`…), no Node API, and is interrupted when a call runs
 * longer than `timeoutMs` (an endless loop in a script must not hang every
 * tunnel), however many calls run at once, or grows past a memory limit; a
 * call that waits longer (on dnsResolve) is given up. Its alert() is a log
 * line, never output.
 *
 * A PAC URL is fetched directly, never through a proxy, as browsers do (the
 * script is what says which proxy to use). Loaded once per process: the
 * script is cached, its answers are not (they may depend on the time of day).
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import type * as PacResolver from 'pac-resolver';
import type * as QuickJS from '@tootallnate/quickjs-emscripten';
import type { QuickJSWASMModule } from '@tootallnate/quickjs-emscripten';
import { peerText } from '../tunnel/peerText';

/** A PAC script that cannot be loaded or that fails to run. */
export class PacError extends Error {
  override name = 'PacError';
}

export interface PacOptions {
  /**
   * How long fetching the script may take in all, from the request to its
   * last byte, in ms: a server that sends a byte now and then never trips the
   * idle timeout, and would hold the start (or a dial) for ever.
   * @default {@link DEFAULT_FETCH_TIMEOUT_MS} (15 s)
   */
  fetchTimeoutMs?: number;
  /** How long the server may send nothing while fetching, in ms. @default {@link DEFAULT_FETCH_IDLE_MS} (10 s) */
  fetchIdleMs?: number;
  /** How long one FindProxyForURL call may run, in ms. @default 2000 */
  timeoutMs?: number;
  /** Largest script accepted, in bytes; a larger one is refused without reading past the limit. @default {@link DEFAULT_MAX_BYTES} (1 MiB) */
  maxBytes?: number;
  /**
   * Hears the script's `alert()` texts, escaped and cut, at most
   * {@link MAX_ALERT_LINES} of them (then one line that says more were
   * dropped). @default none: alerts are dropped
   */
  log?: (line: string) => void;
}

export interface PacScript {
  /** Where it came from, as given (a URL or a file path). */
  readonly source: string;
  /** The script's answer for `url`, e.g. `PROXY a:3128; DIRECT`. @throws {PacError} */
  find(url: string): Promise<string>;
}

/** The whole fetch of a PAC URL: the idle timeout and a few seconds for a slow but steady server. */
export const DEFAULT_FETCH_TIMEOUT_MS = 15_000;
/** Silence while fetching a PAC URL: a server quiet this long is down or stuck. */
export const DEFAULT_FETCH_IDLE_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 2000;
/** A real PAC file is a few kB to a few hundred kB; a megabyte is a wrong URL or path (a download, a log). */
export const DEFAULT_MAX_BYTES = 1024 * 1024;
const MEMORY_LIMIT_BYTES = 32 * 1024 * 1024;
/** How many of a script's alert() texts are logged; a script that alerts at every lookup would fill the log. */
export const MAX_ALERT_LINES = 10;

let quickjs: Promise<QuickJSWASMModule> | undefined;

/**
 * Loads and compiles the PAC script at `source`: an http(s):// URL, a
 * file:// URL or a file path.
 *
 * @throws {PacError} saying what is wrong: unreadable, not found, not a PAC script, broken JavaScript.
 */
export async function loadPac(source: string, options: PacOptions = {}): Promise<PacScript> {
  const text = await readPac(source, options);
  if (!/\bFindProxyForURL\b/.test(text)) throw new PacError(`the PAC file ${source} defines no FindProxyForURL(url, host): is it a PAC file?`);
  // Loaded here, not at the top: the resolver and QuickJS add 3 MB to the
  // heap, and a larger live heap makes V8 collect more often on a busy tunnel
  // (see docs/benchmark.md). Most processes never read a PAC file.
  const { createPacResolver } = require('pac-resolver') as typeof PacResolver;
  const { getQuickJS } = require('@tootallnate/quickjs-emscripten') as typeof QuickJS;
  const qjs = await (quickjs ??= getQuickJS());
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const alert = alerts(source, options.log);
  const compile = () => compileSandbox(qjs, createPacResolver, text, { source, timeoutMs, alert });
  let sandbox: Sandbox;
  try {
    sandbox = compile();
  } catch (err) {
    throw new PacError(`the PAC file ${source} is broken: ${scriptError(err)}`);
  }
  return {
    source,
    async find(url) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const current = sandbox;
      try {
        const answer = await current.call(url, host);
        if (typeof answer !== 'string') throw new Error(`it returned ${typeof answer}, not a string`);
        return answer;
      } catch (err) {
        let message = /interrupted/i.test(scriptError(err)) ? `it ran longer than ${timeoutMs / 1000} s` : scriptError(err);
        if (err instanceof NoAnswer) {
          message = `it gave no answer within ${timeoutMs / 1000} s`;
          // Its code may run on when its DNS answer comes: later calls get a
          // fresh compile, and that code stops once the calls it shares the
          // old one with are done.
          if (sandbox === current) sandbox = recompile(compile, current);
        }
        throw new PacError(`the PAC file ${source} failed for ${url}: ${message}`);
      }
    },
  };
}

/** A call given up at its time limit while the script waited (on dnsResolve): nothing ran too long, nothing came. */
class NoAnswer extends Error {}

/** One compile of the script, in its own QuickJS context. */
interface Sandbox {
  /** FindProxyForURL(url, host), within the time limit. @throws {NoAnswer} when it gave none in time */
  call(url: string, host: string): Promise<unknown>;
}

/**
 * Compiles the script in a context of its own, whose code runs only on a
 * call's time. QuickJS runs one job at a time and cannot say for which call
 * (a call's code goes on after its `await dnsResolve()` whenever the answer
 * comes), so the interrupt handler lets code run while any call in flight is
 * within its deadline, and stops any code that runs when none is: a call
 * given up while its DNS answer was on the way cannot run on unbounded. A
 * timer over each whole call gives it up when it waits too long.
 */
function compileSandbox(
  qjs: QuickJSWASMModule,
  createPacResolver: typeof PacResolver.createPacResolver,
  text: string,
  options: { source: string; timeoutMs: number; alert: (message?: unknown) => void },
): Sandbox {
  const { timeoutMs } = options;
  const running = new Set<{ until: number }>();
  const interrupt = () => {
    const now = Date.now();
    for (const call of running) if (now <= call.until) return false;
    return true;
  };
  const sandboxed = {
    newContext: (...args: Parameters<QuickJSWASMModule['newContext']>) => {
      const context = qjs.newContext(...args);
      context.runtime.setMemoryLimit(MEMORY_LIMIT_BYTES);
      context.runtime.setInterruptHandler(interrupt);
      return context;
    },
  } as unknown as QuickJSWASMModule;
  // The script's top level runs now, on the same time limit.
  const compiling = { until: Date.now() + timeoutMs };
  running.add(compiling);
  let findProxy: (url: string, host?: string) => Promise<string>;
  try {
    findProxy = createPacResolver(sandboxed, text, { filename: options.source, sandbox: { alert: options.alert } });
  } finally {
    running.delete(compiling);
  }
  return {
    async call(url, host) {
      const call = { until: Date.now() + timeoutMs };
      running.add(call);
      let timer: NodeJS.Timeout | undefined;
      try {
        const answer = findProxy(url, host);
        answer.catch(() => {}); // given up on, it may still fail later
        const late = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new NoAnswer()), timeoutMs)));
        return await Promise.race([answer, late]);
      } finally {
        clearTimeout(timer);
        running.delete(call);
      }
    },
  };
}

/** A fresh compile; the old one where the script no longer compiles (its top level may depend on the time). */
function recompile(compile: () => Sandbox, old: Sandbox): Sandbox {
  try {
    return compile();
  } catch {
    return old;
  }
}

/**
 * The script's alert(): pac-resolver's own is console.log, which in `wssh
 * client` would write into the SSH connection (its stdout). Here it is a log
 * line, escaped, bounded, and nothing else.
 */
function alerts(source: string, log: ((line: string) => void) | undefined): (message?: unknown) => void {
  let said = 0;
  return (message = '') => {
    if (!log || said > MAX_ALERT_LINES) return;
    said++;
    if (said > MAX_ALERT_LINES) log(`further alerts of the PAC file ${source} are not shown`);
    else log(`the PAC file ${source} says: ${peerText(String(message))}`);
  };
}

/** The text of the script, from its URL or file. */
async function readPac(source: string, options: PacOptions): Promise<string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (/^https?:\/\//i.test(source)) {
    return fetchPac(source, options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS, options.fetchIdleMs ?? DEFAULT_FETCH_IDLE_MS, maxBytes);
  }
  let file = source;
  if (/^file:/i.test(source)) {
    try {
      file = fileURLToPath(source);
    } catch (err) {
      throw new PacError(`the PAC URL ${source} is not a file URL this system can open: ${(err as Error).message}`);
    }
  } else if (/^[a-z][a-z0-9+.-]+:\/\//i.test(source)) {
    throw new PacError(`the PAC URL ${source}: only http://, https:// and file:// URLs or a file path`);
  }
  try {
    return await readPacFile(file, source, maxBytes);
  } catch (err) {
    if (err instanceof PacError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    throw new PacError(`cannot read the PAC file ${source}: ${why}`);
  }
}

/** What to do about a script over the limit, after the message that says so. */
const TOO_LARGE_ADVICE = 'a PAC file is a few kB of JavaScript: check that this is the PAC file';

/**
 * Reads no more than `maxBytes` + 1 bytes of `file`: its size is checked
 * first, and the read is bounded too, for what has no size to check (a pipe,
 * a device) or grows meanwhile.
 */
async function readPacFile(file: string, source: string, maxBytes: number): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const tooLarge = (detail: string) => new PacError(`the PAC file ${source} is larger than ${maxBytes} bytes (${detail}): ${TOO_LARGE_ADVICE}`);
    if (stat.size > maxBytes) throw tooLarge(`${stat.size} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    // `end` is inclusive: one byte past the limit is enough to know. No
    // `start`: a pipe cannot seek, and positioned reads fail on one.
    for await (const chunk of handle.createReadStream({ end: maxBytes, autoClose: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge('it went on past the limit while read');
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Fetches a PAC URL within `timeoutMs` in all and `idleMs` of silence, and
 * no more than `maxBytes` of body: a Content-Length over it is refused before
 * the body is read, and a body without one is cut off as soon as it passes.
 */
function fetchPac(url: string, timeoutMs: number, idleMs: number, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const get = url.toLowerCase().startsWith('https:') ? https.get : http.get;
    let settled = false;
    let size = 0;
    const settle = () => {
      settled = true;
      clearTimeout(deadline);
    };
    const fail = (why: string) => {
      if (settled) return;
      settle();
      req.destroy();
      reject(new PacError(`cannot fetch the PAC file ${url}: ${why}`));
    };
    const tooLarge = (detail: string) => fail(`it is larger than ${maxBytes} bytes (${detail}): ${TOO_LARGE_ADVICE}`);
    // No agent: a PAC file is fetched directly, whatever HTTPS_PROXY says.
    const req = get(url, { timeout: idleMs, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) return fail(peerText(`${status} ${res.statusMessage ?? ''}`.trim()));
      const length = Number(res.headers['content-length']);
      if (length > maxBytes) return tooLarge(`its Content-Length is ${length}`);
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return tooLarge('it went on past the limit');
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        settle();
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', (err) => fail(err.message));
    });
    const deadline = setTimeout(
      () => fail(`not all of it came within ${timeoutMs / 1000} s (${size} bytes did): the server is too slow; check it, or use a copy of the file`),
      timeoutMs,
    );
    req.on('timeout', () => fail(size > 0 ? `it stopped sending for ${idleMs / 1000} s` : `no answer within ${idleMs / 1000} s`));
    req.on('error', (err: NodeJS.ErrnoException) => {
      fail(err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? `cannot resolve its host (${err.code})` : err.message);
    });
  });
}

/** A script's error in one line, escaped (the script's own text): QuickJS hands back objects with name and message. */
function scriptError(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; message?: unknown };
    const message = typeof e.message === 'string' ? e.message : JSON.stringify(err);
    const name = typeof e.name === 'string' && e.name !== 'Error' ? `${e.name}: ` : '';
    return peerText(`${name}${message}`.split('\n')[0]);
  }
  return peerText(String(err));
}
