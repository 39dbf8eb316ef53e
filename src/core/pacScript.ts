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
  /** How long fetching the script may take, in ms. @default 10000 */
  fetchTimeoutMs?: number;
  /** How long one FindProxyForURL call may run, in ms. @default 2000 */
  timeoutMs?: number;
  /** Largest script accepted, in bytes. @default 1048576 */
  maxBytes?: number;
}

export interface PacScript {
  /** Where it came from, as given (a URL or a file path). */
  readonly source: string;
  /** The script's answer for `url`, e.g. `PROXY a:3128; DIRECT`. @throws {PacError} */
  find(url: string): Promise<string>;
}

const DEFAULT_FETCH_TIMEOUT_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_MAX_BYTES = 1024 * 1024;
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
      try {
        const answer = await findProxy(url, host);
        if (typeof answer !== 'string') throw new Error(`it returned ${typeof answer}, not a string`);
        return answer;
      } catch (err) {
        const message = /interrupted/i.test(scriptError(err)) ? `it ran longer than ${timeoutMs / 1000} s` : scriptError(err);
        throw new PacError(`the PAC file ${source} failed for ${url}: ${message}`);
      } finally {
        deadline = Infinity;
      }
    },
  };
}

/** The text of the script, from its URL or file. */
async function readPac(source: string, options: PacOptions): Promise<string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (/^https?:\/\//i.test(source)) return fetchPac(source, options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS, maxBytes);
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
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    throw new PacError(`cannot read the PAC file ${source}: ${why}`);
  }
  if (data.length > maxBytes) throw new PacError(`the PAC file ${source} is larger than ${maxBytes} bytes`);
  return data.toString('utf8');
}

function fetchPac(url: string, timeoutMs: number, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const get = url.toLowerCase().startsWith('https:') ? https.get : http.get;
    const fail = (why: string) => reject(new PacError(`cannot fetch the PAC file ${url}: ${why}`));
    // No agent: a PAC file is fetched directly, whatever HTTPS_PROXY says.
    const req = get(url, { timeout: timeoutMs, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        return fail(`${status} ${res.statusMessage ?? ''}`.trim());
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy();
          return fail(`it is larger than ${maxBytes} bytes`);
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', (err) => fail(err.message));
    });
    req.on('timeout', () => {
      req.destroy();
      fail(`no answer within ${timeoutMs / 1000} s`);
    });
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
