// A web page of another origin, in a real headless Chromium, tries to use the
// WSSH server (started as `wssh server`, no --users, as by default) to read
// the SSH banner of a real sshd behind it. The server refuses any upgrade with
// an Origin header that --allow-origin does not list: 403 with the reason, a
// log line and a counter in /metrics. With --allow-origin the page's origin
// gets through. (What --allow-origin refuses: test/server/origin.test.ts.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { startSshd, type Sshd } from '../fixtures/sshd';
import { chromiumPath, launchChromium } from '../fixtures/rendererBridge';
import { requireProgram } from '../../scripts/harness/programs';
import { tempDir } from '../fixtures/tmp';
import { spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { waitFor } from '../fixtures/tunnel';
import { rawRequest } from '../fixtures/upgradeClient';

let browser: Browser | undefined;
let sshd: Sshd | undefined;
let page: http.Server;
let pageOrigin: string;

// What the attacker's page runs: a WebSocket to the server, the first frame as text.
const ATTACK_PAGE = `<!doctype html><meta charset="utf-8"><title>cat pictures</title>
<script>
window.readBanner = (url) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (e) => { resolve('banner:' + new TextDecoder().decode(e.data)); ws.close(); };
  ws.onerror = () => resolve('error');
  ws.onclose = (e) => resolve('closed:' + e.code);
  setTimeout(() => resolve('timeout'), 10000);
});
</script>`;

before(async () => {
  if (!chromiumPath()) return;
  browser = await launchChromium();
  sshd = await startSshd();
  page = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(ATTACK_PAGE));
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
});
after(async () => {
  await browser?.close();
  await sshd?.stop();
  await new Promise((resolve) => page?.close(resolve) ?? resolve(undefined));
});

async function bannerFromPage(serverPort: number): Promise<string> {
  const context = await browser!.newContext();
  try {
    const tab = await context.newPage();
    await tab.goto(`${pageOrigin}/`);
    return await tab.evaluate(
      (url) => (globalThis as unknown as { readBanner(u: string): Promise<string> }).readBanner(url),
      `ws://127.0.0.1:${serverPort}/ssh/127.0.0.1%3A${sshd!.port}`,
    );
  } finally {
    await context.close();
  }
}

test('a page of another origin cannot open a tunnel: 403 with the reason, a log line, a counter', async (t) => {
  if (!browser) return void requireProgram(t, 'chromium', ['/usr/bin/chromium']);
  const dir = tempDir(t);
  const server = await spawnWsshServer(writeHosts(dir, `"127.0.0.1:${sshd!.port}": true\n`), ['--keepalive', '0']);
  t.after(() => server.stop());

  const result = await bannerFromPage(server.port);
  assert.doesNotMatch(result, /SSH-2\.0/, 'the page read the SSH banner');
  const line = await waitFor(
    'the refusal in the log',
    () => /tunnel refused .*status=403 reason="a web page of origin (\S+) may not open tunnels/.exec(server.output()),
    5000,
    server.output,
  );
  assert.equal(line[1], pageOrigin);
  const metrics = await rawRequest(server.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(metrics, /wssh_refusals_total\{status="403",reason="origin"\} 1/);

  // The status and reason as an HTTP client sees them.
  const answer = await rawRequest(
    server.port,
    `GET /ssh/127.0.0.1%3A${sshd!.port} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://evil.example\r\n\r\n`,
  );
  assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n/);
  assert.match(answer, /a web page of origin https:\/\/evil\.example may not open tunnels/);
});

test('--allow-origin lets that origin through (and only it)', async (t) => {
  if (!browser) return void requireProgram(t, 'chromium', ['/usr/bin/chromium']);
  const dir = tempDir(t);
  const server = await spawnWsshServer(writeHosts(dir, `"127.0.0.1:${sshd!.port}": true\n`), [
    '--keepalive',
    '0',
    '--allow-origin',
    'https://other.example',
    '--allow-origin',
    pageOrigin.toUpperCase().replace('HTTP', 'http'),
  ]);
  t.after(() => server.stop());
  assert.match(await bannerFromPage(server.port), /^banner:SSH-2\.0-/);
});
