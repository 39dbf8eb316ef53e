// A PAC script's time limit holds for every lookup, however many run at once
// (issue 24, item 5). One deadline was shared by all calls: a lookup that
// finished cleared it while another waited on dnsResolve, which then ran
// `while (true) {}` unbounded, and `wssh connect` hung at 100 % CPU with
// every tunnel stopped. And a lookup that waits (on a DNS answer that does
// not come) is given up at the limit too.
//
// The script comes from a PAC server on loopback; the lookups run in a child
// process, since a loop that is not cut would stop this one's event loop
// too: the child is killed at a deadline, and then the test fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { killOnExit } from '../../scripts/harness/processes';

const PAC_SCRIPT = path.join(__dirname, '..', '..', 'src', 'core', 'upstream', 'pacScript.js');

const SCRIPT = `function FindProxyForURL(url, host) {
  if (host == "resolve-then-loop") { dnsResolve("localhost"); while (true) {} }
  if (host == "resolve") { dnsResolve("localhost"); return "DIRECT"; }
  return "DIRECT";
}`;

async function pacServer(t: { after(fn: () => unknown): void }): Promise<string> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/x-ns-proxy-autoconfig' }).end(SCRIPT));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/proxy.pac`;
}

/**
 * Runs `body` (with `pac` loaded from `url`, a 1 s limit) in a child; what it
 * printed, a line of JSON. Its stdin is a pipe, written to once that line
 * came: a read of it held open would hold the child's exit too.
 */
async function inChild(url: string, body: string, env: NodeJS.ProcessEnv = {}): Promise<Record<string, unknown>> {
  const script = `
    const { loadPac } = require(${JSON.stringify(PAC_SCRIPT)});
    const settle = (p) => p.then((v) => v, (e) => String(e));
    (async () => {
      const pac = await loadPac(${JSON.stringify(url)}, { timeoutMs: 1000 });
      ${body}
    })().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  killOnExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('\n')) child.stdin.end('x');
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on('error', () => {});
  // Killed at 20 s: a loop that is not cut never ends.
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(killer);
  assert.equal(code, 0, `exit ${code ?? signal}: ${stderr}${stdout}`);
  return JSON.parse(stdout) as Record<string, unknown>;
}

test('two lookups at once: one waits on dnsResolve while the other finishes, and its endless loop is still cut', async (t) => {
  const url = await pacServer(t);
  const out = await inChild(
    url,
    `const started = Date.now();
     const [looping, quick] = await Promise.all([settle(pac.find('http://resolve-then-loop/')), settle(pac.find('http://quick/'))]);
     const ms = Date.now() - started;
     process.stdout.write(JSON.stringify({ looping, quick, ms, after: await settle(pac.find('http://quick/')) }) + '\\n');`,
  );
  assert.match(String(out.looping), /^PacError: the PAC file .* failed for http:\/\/resolve-then-loop\/: it ran longer than 1 s$/);
  assert.equal(out.quick, 'DIRECT');
  assert.equal(out.after, 'DIRECT', 'the script still answers');
  assert.ok(Number(out.ms) < 10_000, `cut after ${out.ms} ms`);
});

test('a lookup whose dnsResolve never answers is given up at the limit, and the next lookups still answer', async (t) => {
  const url = await pacServer(t);
  // One thread in libuv's pool, held by a read of stdin (a pipe written to
  // only at the end): every DNS lookup the script asks for waits behind it.
  const out = await inChild(
    url,
    `require('node:fs').read(0, Buffer.alloc(1), 0, 1, null, () => {});
     const started = Date.now();
     const waiting = await settle(pac.find('http://resolve/'));
     const ms = Date.now() - started;
     process.stdout.write(JSON.stringify({ waiting, ms, after: await settle(pac.find('http://quick/')) }) + '\\n');`,
    { UV_THREADPOOL_SIZE: '1' },
  );
  assert.match(String(out.waiting), /^PacError: the PAC file .* failed for http:\/\/resolve\/: it gave no answer within 1 s$/);
  assert.ok(Number(out.ms) < 10_000, `given up after ${out.ms} ms`);
  assert.equal(out.after, 'DIRECT');
});
