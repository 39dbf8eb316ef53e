/**
 * PAC scripts (src/core/upstream/pacScript.ts): the network's JavaScript,
 * built from pieces that answer, loop for ever, allocate without end,
 * recurse, throw odd values, return what is not a string or a promise that
 * never settles, at the top level or in FindProxyForURL, then mutated.
 *
 * Properties: loadPac resolves or rejects with a PacError, and find()
 * resolves with a string or rejects with a PacError, each within the call
 * deadline and some slack, with the worker's memory bounded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as fc from 'fast-check';
import { PacError, loadPac } from '../../../src/core/upstream/pacScript';
import { mutatedText } from '../mutate';
import { PropertyBroken, holds, type FuzzTarget } from '../target';

const body = fc.constantFrom(
  'return "DIRECT";',
  'return "PROXY a:3128; DIRECT";',
  'if (shExpMatch(host, "*.example.com")) return "PROXY p:8080"; return "DIRECT";',
  'if (isInNet(host, "10.0.0.0", "255.0.0.0")) return "DIRECT"; return "PROXY p:1";',
  'while (true) {}',
  'for (;;) { var x = 1; }',
  'var a = []; while (true) a.push(new Array(100000).fill(1));',
  'var s = "x"; while (true) s = s + s;',
  'function f(n) { return f(n + 1) + 1; } return f(0);',
  'throw new Error("boom");',
  'throw null;',
  'throw { name: 5, message: { deep: true } };',
  'throw 12345678901234567890n;',
  'var o = {}; o.self = o; throw o;',
  'return 42;',
  'return null;',
  'return undefined;',
  'return { toString: function () { while (true) {} } };',
  'return new Promise(function () {});',
  'return new Promise(function (r) { r("DIRECT"); });',
  'return Promise.reject(new Error("no"));',
  'return "\\u001b]52;c;AAAA\\u0007DIRECT";',
  'alert("hello\\u001b[2J"); return "DIRECT";',
  'return dnsDomainIs(host, ".example.com") ? "DIRECT" : "PROXY q:3128";',
  'return weekdayRange("MON", "FRI") ? "DIRECT" : "PROXY r:1";',
);
const topLevel = fc.constantFrom(
  '',
  '',
  'while (true) {}',
  'var big = new Array(1e7).fill("x");',
  'throw new Error("at load");',
  'var FindProxyForURL = 5;',
  '}{',
);
const script = fc
  .tuple(topLevel, fc.array(body, { minLength: 1, maxLength: 2 }))
  .map(([top, parts]) => `${top}\nfunction FindProxyForURL(url, host) {\n${parts.join('\n')}\n}\n`);

/** The deadline of one call given to loadPac here: short, so that the pieces that never end cost little. */
const CALL_MS = 300;

export const pacTarget: FuzzTarget<string, { dir: string }> = {
  name: 'pac',
  about: 'PAC scripts that loop, allocate without end, throw or never settle (loadPac, find)',
  arbitrary: mutatedText(script, ['{', '}', '(', ')', ';', '"', 'return ', 'while(1);', '\n', '/*', '`'], 2),
  testRuns: 40,
  caseMs: 6000,
  // Every case loads a script, and a loaded script (its QuickJS runtime) has no way to be let go: the
  // worker's memory grows by each one's (up to QuickJS's 32 MiB limit per script), whatever the script does.
  memoryLimitMb: 8192,
  async setup() {
    return { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'wssh-fuzz-pac-')) };
  },
  async teardown({ dir }) {
    fs.rmSync(dir, { recursive: true, force: true });
  },
  async check(text, { dir }) {
    const file = path.join(dir, 'proxy.pac');
    fs.writeFileSync(file, text);
    let pac;
    try {
      pac = await bounded('loadPac', () => loadPac(file, { timeoutMs: CALL_MS }));
    } catch (err) {
      allowed('loadPac', err);
      return;
    }
    for (const url of ['wss://gw.example.com/ssh', 'ws://10.1.2.3:8080/ssh']) {
      try {
        const answer = await bounded('find', () => pac.find(url));
        holds(typeof answer === 'string', () => `find gave ${typeof answer}`);
      } catch (err) {
        allowed('find', err);
      }
    }
  },
};

function allowed(what: string, err: unknown): void {
  if (err instanceof PropertyBroken) throw err;
  if (!(err instanceof PacError))
    throw new PropertyBroken(`${what} let ${(err as Error)?.name ?? typeof err} escape: ${(err as Error)?.message ?? String(err)}`);
  holds(err.message.trim() !== '', () => `${what}: a PacError without a message`);
}

/** `fn` must settle within the call deadline and some slack (the sandbox's start, a busy machine). */
async function bounded<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const limit = CALL_MS + 2000;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PropertyBroken(`${what} did not settle within ${limit} ms (its deadline is ${CALL_MS} ms)`)), limit);
  });
  try {
    return await Promise.race([fn(), late]);
  } finally {
    clearTimeout(timer);
  }
}
