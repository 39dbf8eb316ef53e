// PAC scripts in the sandbox: read from a file, a file:// URL or over HTTP
// (a real server on loopback), their answers, and every way they fail said
// as what it is: no file, not a PAC file, broken JavaScript, a 404, a script
// that throws or never returns (interrupted, and the script still works
// after). The bounds of a load: a server that sends a byte now and then is
// given up at the total deadline, a body past the size limit is cut off (and
// a Content-Length over it refused unread), a file over it is refused by its
// size or by a bounded read. Also `--proxy system`'s combination of the Windows settings with
// their PAC script (systemProxy.ts), with the registry text given.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { loadPac } from '../../src/core/upstream/pacScript';
import { systemProxy } from '../../src/core/upstream/systemProxy';
import { INTERNET_SETTINGS_KEY } from '../../src/core/upstream/windowsProxySettings';
import { parseEndpoint } from '../../src/shared/endpoint';
import { within } from '../fixtures/tunnel';

const SCRIPT = `function FindProxyForURL(url, host) {
  if (host == "loop") { while (true) {} }
  if (host == "bad") return notDefined;
  if (host == "number") return 42;
  if (shExpMatch(host, "*.corp.test")) return "PROXY a.corp.test:3128; PROXY b.corp.test:3128; DIRECT";
  if (isPlainHostName(host)) return "DIRECT";
  return "PROXY " + host + ":1; DIRECT";
}`;

function tmp(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wssh-pac-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a PAC file: its answers per URL, and a script that throws or loops is said and interrupted', async (t) => {
  const file = path.join(tmp(t), 'corp.pac');
  fs.writeFileSync(file, SCRIPT);
  // A wall-clock deadline per call: long enough that a busy machine never cuts the quick answers, only the loop.
  const pac = await loadPac(file, { timeoutMs: 2000 });
  assert.equal(await pac.find('https://gw.corp.test/ssh'), 'PROXY a.corp.test:3128; PROXY b.corp.test:3128; DIRECT');
  assert.equal(await pac.find('https://intranet/'), 'DIRECT');
  assert.equal(await pac.find('http://x.example/'), 'PROXY x.example:1; DIRECT');
  await assert.rejects(
    pac.find('https://bad/'),
    /^PacError: the PAC file .*corp\.pac failed for https:\/\/bad\/: ReferenceError: 'notDefined' is not defined$/,
  );
  await assert.rejects(pac.find('https://number/'), /failed for https:\/\/number\/: it returned number, not a string/);
  await assert.rejects(pac.find('https://loop/'), /failed for https:\/\/loop\/: it ran longer than 2 s$/);
  assert.equal(
    await pac.find('https://gw.corp.test/'),
    'PROXY a.corp.test:3128; PROXY b.corp.test:3128; DIRECT',
    'the script still answers after an interrupt',
  );
  const byUrl = await loadPac(pathToFileURL(file).href);
  assert.equal(await byUrl.find('https://intranet/'), 'DIRECT');
});

test('a PAC URL over HTTP, and what cannot be loaded', async (t) => {
  const dir = tmp(t);
  const server = http.createServer((req, res) => {
    if (req.url === '/proxy.pac') res.writeHead(200).end(SCRIPT);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pac = await loadPac(`${base}/proxy.pac`);
  assert.equal(await pac.find('wss://gw.corp.test/'.replace(/^wss/, 'https')), 'PROXY a.corp.test:3128; PROXY b.corp.test:3128; DIRECT');

  await assert.rejects(loadPac(`${base}/missing.pac`), /^PacError: cannot fetch the PAC file http:\/\/127\.0\.0\.1:\d+\/missing\.pac: 404 Not Found$/);
  await assert.rejects(loadPac(path.join(dir, 'none.pac')), /^PacError: cannot read the PAC file .*none\.pac: no such file$/);
  await assert.rejects(loadPac(dir), /: it is a directory$/);
  fs.writeFileSync(path.join(dir, 'hosts'), '127.0.0.1 localhost\n');
  await assert.rejects(loadPac(path.join(dir, 'hosts')), /defines no FindProxyForURL\(url, host\): is it a PAC file\?$/);
  fs.writeFileSync(path.join(dir, 'broken.pac'), 'function FindProxyForURL(url, host) { return "DIRECT" ');
  await assert.rejects(loadPac(path.join(dir, 'broken.pac')), /^PacError: the PAC file .*broken\.pac is broken: .*Unexpected end of input/);
  await assert.rejects(loadPac('ftp://x/proxy.pac'), /only http:\/\/, https:\/\/ and file:\/\/ URLs or a file path/);
  fs.writeFileSync(path.join(dir, 'big.pac'), 'function FindProxyForURL(){return "DIRECT"}' + ' '.repeat(2000));
  await assert.rejects(loadPac(path.join(dir, 'big.pac'), { maxBytes: 1000 }), /is larger than 1000 bytes/);
});

/** A real HTTP server on loopback with `handler`; closed (connections and all) after the test. */
async function serve(t: { after(fn: () => unknown): void }, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const TOO_LARGE_ADVICE = 'a PAC file is a few kB of JavaScript: check that this is the PAC file';

/** A pattern for exactly the text of `parts` in turn: strings as they are, patterns as patterns. */
function exactly(...parts: Array<string | RegExp>): RegExp {
  return new RegExp(`^${parts.map((p) => (typeof p === 'string' ? p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : p.source)).join('')}$`);
}

/** Resolves when the server's side of `res` closes: the client gave up the request. */
function closed(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => (res.destroyed ? resolve() : res.once('close', () => resolve())));
}

test('a PAC server that sends a byte now and then is given up at the total deadline, with what to do', async (t) => {
  let response: http.ServerResponse | undefined;
  const base = await serve(t, (_req, res) => {
    response = res;
    // No Content-Length (chunked), one byte every 50 ms: far inside the idle timeout (10 s), never done.
    res.writeHead(200, { 'Content-Type': 'application/x-ns-proxy-autoconfig' });
    const timer = setInterval(() => res.write(' '), 50);
    res.on('close', () => clearInterval(timer));
  });
  const started = Date.now();
  const err = await within(
    loadPac(`${base}/slow.pac`, { fetchTimeoutMs: 2000 }).then(
      () => undefined,
      (e: Error) => e,
    ),
    10_000,
    'the slow fetch',
  );
  assert.match(
    String(err),
    exactly(
      `PacError: cannot fetch the PAC file ${base}/slow.pac: not all of it came within 2 s (`,
      /\d+/,
      ' bytes did): the server is too slow; check it, or use a copy of the file',
    ),
  );
  assert.ok(Number(/\((\d+) bytes did\)/.exec(String(err))![1]) > 0, 'bytes were coming: the idle timeout alone would not have stopped it');
  assert.ok(Date.now() - started < 6000, `given up after ${Date.now() - started} ms`);
  await within(closed(response!), 5000, 'the request to be aborted');
});

test('a PAC body past the size limit is cut off as it passes; a Content-Length over the limit is refused unread', async (t) => {
  const responses: http.ServerResponse[] = [];
  const base = await serve(t, (req, res) => {
    responses.push(res);
    if (req.url === '/endless.pac') {
      // Chunked, 1 KiB at a time for as long as the client reads.
      res.writeHead(200);
      const more = () => {
        while (!res.destroyed && res.write(Buffer.alloc(1024, 0x20)));
      };
      res.on('drain', more);
      more();
    } else {
      // The headers say too much, and no body byte ever follows: only the header can refuse it.
      res.writeHead(200, { 'Content-Length': '4097' });
      res.flushHeaders();
    }
  });
  await assert.rejects(
    within(loadPac(`${base}/endless.pac`, { maxBytes: 4096 }), 10_000, 'the endless body'),
    exactly(`PacError: cannot fetch the PAC file ${base}/endless.pac: it is larger than 4096 bytes (it went on past the limit): ${TOO_LARGE_ADVICE}`),
  );
  await within(closed(responses[0]), 5000, 'the endless request to be aborted');
  await assert.rejects(
    within(loadPac(`${base}/declared.pac`, { maxBytes: 4096 }), 5000, 'the refusal by Content-Length'),
    exactly(`PacError: cannot fetch the PAC file ${base}/declared.pac: it is larger than 4096 bytes (its Content-Length is 4097): ${TOO_LARGE_ADVICE}`),
  );
  await within(closed(responses[1]), 5000, 'the declared request to be aborted');
});

test('a PAC file over the size limit is refused by its size, unread; one with no size by a bounded read', async (t) => {
  const dir = tmp(t);
  // Sparse: 3 GiB that take no disk, and that reading whole would take 3 GiB of memory.
  const huge = path.join(dir, 'huge.pac');
  fs.writeFileSync(huge, 'function FindProxyForURL(){return "DIRECT"}');
  fs.truncateSync(huge, 3 * 1024 ** 3);
  await assert.rejects(
    within(loadPac(huge), 5000, 'the huge file'),
    exactly(`PacError: the PAC file ${huge} is larger than 1048576 bytes (3221225472 bytes): ${TOO_LARGE_ADVICE}`),
  );
  // A pipe has no size to check, and its writer may never close it: 2000
  // bytes in, still open. Read whole, it would never end.
  if (process.platform === 'win32') return;
  const fifo = path.join(dir, 'pipe.pac');
  execFileSync('mkfifo', [fifo]);
  const writer = fs.createWriteStream(fifo);
  writer.on('error', () => {}); // EPIPE once the reader has given up
  t.after(() => writer.destroy());
  writer.write(Buffer.alloc(2000, 0x20));
  await assert.rejects(
    within(loadPac(fifo, { maxBytes: 1000 }), 5000, 'the pipe'),
    exactly(`PacError: the PAC file ${fifo} is larger than 1000 bytes (it went on past the limit while read): ${TOO_LARGE_ADVICE}`),
  );
});

const reg = (values: Record<string, string>) =>
  [
    '',
    'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings',
    ...Object.entries(values).map(([k, v]) => `    ${k}    ${v}`),
    '',
  ].join('\r\n');

test('--proxy system: the Windows settings, their PAC script first, the manual proxy when it cannot load; the environment elsewhere', async (t) => {
  const dir = tmp(t);
  const file = path.join(dir, 'corp.pac');
  fs.writeFileSync(file, SCRIPT);
  const endpoint = parseEndpoint('wss://gw.corp.test/ssh');
  let text = reg({ ProxyEnable: 'REG_DWORD    0x1', ProxyServer: 'REG_SZ    manual.corp.test:8080', AutoConfigURL: `REG_SZ    ${file}` });
  let reads = 0;
  const lines: string[] = [];
  const sys = systemProxy({
    platform: 'win32',
    cacheMs: 0,
    reg: {
      run: async (args) => {
        assert.deepEqual(args, ['query', INTERNET_SETTINGS_KEY]);
        reads++;
        return { code: 0, stdout: text, stderr: '' };
      },
    },
    log: (line) => lines.push(line),
  });
  assert.deepEqual(await sys.resolve(endpoint), ['http://a.corp.test:3128', 'http://b.corp.test:3128', false]);
  assert.deepEqual(lines, [`using the Windows PAC script ${file}`]);
  text = reg({ ProxyEnable: 'REG_DWORD    0x1', ProxyServer: 'REG_SZ    manual.corp.test:8080', AutoConfigURL: `REG_SZ    ${path.join(dir, 'gone.pac')}` });
  assert.deepEqual(await sys.resolve(endpoint), ['http://manual.corp.test:8080']);
  assert.match(lines[1], /^cannot read the PAC file .*gone\.pac: no such file; using the manual proxy setting instead \(the proxy manual\.corp\.test:8080\)$/);
  text = reg({ ProxyEnable: 'REG_DWORD    0x0', ProxyServer: 'REG_SZ    manual.corp.test:8080' });
  assert.deepEqual(await sys.resolve(endpoint), [false]);
  assert.ok(reads >= 3, 'read again when the cache is over');
  text = reg({ ProxyEnable: 'REG_DWORD    0x1', ProxyServer: 'REG_SZ    socks=s:1080' });
  await assert.rejects(
    sys.resolve(endpoint),
    (err: Error & { code?: string; status?: number }) => err.code === 'PROXY_CONFIG' && err.status === 502 && /SOCKS only/.test(err.message),
  );

  const linux = systemProxy({ platform: 'linux', reg: { run: async () => assert.fail('no registry off Windows') } });
  assert.equal(await linux.resolve(endpoint), undefined);
  assert.equal(await linux.settings(), undefined);
});
