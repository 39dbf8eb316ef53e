// PAC scripts in the sandbox: read from a file, a file:// URL or over HTTP
// (a real server on loopback), their answers, and every way they fail said
// as what it is: no file, not a PAC file, broken JavaScript, a 404, a script
// that throws or never returns (interrupted, and the script still works
// after). Also `--proxy system`'s combination of the Windows settings with
// their PAC script (systemProxy.ts), with the registry text given.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { loadPac } from '../../src/core/pacScript';
import { systemProxy } from '../../src/core/systemProxy';
import { parseEndpoint } from '../../src/shared/endpoint';

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
  await assert.rejects(pac.find('https://bad/'), /^PacError: the PAC file .*corp\.pac failed for https:\/\/bad\/: ReferenceError: 'notDefined' is not defined$/);
  await assert.rejects(pac.find('https://number/'), /failed for https:\/\/number\/: it returned number, not a string/);
  await assert.rejects(pac.find('https://loop/'), /failed for https:\/\/loop\/: it ran longer than 2 s$/);
  assert.equal(await pac.find('https://gw.corp.test/'), 'PROXY a.corp.test:3128; PROXY b.corp.test:3128; DIRECT', 'the script still answers after an interrupt');
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

const reg = (values: Record<string, string>) =>
  ['', 'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings', ...Object.entries(values).map(([k, v]) => `    ${k}    ${v}`), ''].join('\r\n');

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
    readInternetSettings: async () => {
      reads++;
      return text;
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
  await assert.rejects(sys.resolve(endpoint), (err: Error & { code?: string; status?: number }) => err.code === 'PROXY_CONFIG' && err.status === 502 && /SOCKS only/.test(err.message));

  const linux = systemProxy({ platform: 'linux', readInternetSettings: async () => assert.fail('no registry off Windows') });
  assert.equal(await linux.resolve(endpoint), undefined);
  assert.equal(await linux.settings(), undefined);
});
