/**
 * A proxy auto-config (PAC) script: fetched or read once, compiled in a
 * sandbox, and asked `FindProxyForURL(url, host)` for each endpoint.
 *
 * The script is the network's code, not ours: it runs in QuickJS compiled to
 * WebAssembly (`pac-resolver` on `@tootallnate/quickjs-emscripten`, the pair
 * `pac-proxy-agent` uses), which sees only the PAC functions (`shExpMatch`,
 * `dnsResolve`, `isInNet`…), no Node API, and is interrupted when one call runs
 * longer than `timeoutMs` (an endless loop in a script must not hang every
 * tunnel) or grows past a memory limit.
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
  // Each call sets the deadline its synchronous part must meet; QuickJS asks
  // the handler now and then while it runs.
  let deadline = Infinity;
  const sandboxed = {
    newContext: (...args: Parameters<QuickJSWASMModule['newContext']>) => {
      const context = qjs.newContext(...args);
      context.runtime.setMemoryLimit(MEMORY_LIMIT_BYTES);
      context.runtime.setInterruptHandler(() => Date.now() > deadline);
      return context;
    },
  } as unknown as QuickJSWASMModule;
  let findProxy: (url: string, host?: string) => Promise<string>;
  try {
    deadline = Date.now() + timeoutMs;
    findProxy = createPacResolver(sandboxed, text, { filename: source });
  } catch (err) {
    throw new PacError(`the PAC file ${source} is broken: ${scriptError(err)}`);
  } finally {
    deadline = Infinity;
  }
  return {
    source,
    async find(url) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      deadline = Date.now() + timeoutMs;
      // The interrupt handler stops a call that runs; a call that returns a
      // promise that never settles (found by fuzzing) only a timer stops.
      let timer: NodeJS.Timeout | undefined;
      const unsettled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`it gave no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      });
      try {
        const answer = await Promise.race([findProxy(url, host), unsettled]);
        if (typeof answer !== 'string') throw new Error(`it returned ${typeof answer}, not a string`);
        return answer;
      } catch (err) {
        const message = /interrupted/i.test(scriptError(err)) ? `it ran longer than ${timeoutMs / 1000} s` : scriptError(err);
        throw new PacError(`the PAC file ${source} failed for ${url}: ${message}`);
      } finally {
        clearTimeout(timer);
        deadline = Infinity;
      }
    },
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
      if (status !== 200) return fail(`${status} ${res.statusMessage ?? ''}`.trim());
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

/** A script's error in one line: QuickJS hands back objects with name and message. */
function scriptError(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; message?: unknown };
    const message = typeof e.message === 'string' ? e.message : JSON.stringify(err);
    const name = typeof e.name === 'string' && e.name !== 'Error' ? `${e.name}: ` : '';
    return `${name}${message}`.split('\n')[0];
  }
  return String(err);
}
