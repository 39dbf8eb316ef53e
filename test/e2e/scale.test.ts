// Many tunnels on one pair of processes (`wssh connect` and `wssh server`,
// as a user runs them):
// - a burst of opens larger than a turn of the event loop admits: every
//   tunnel opens, none is refused, no 408 in the server's log;
// - many tunnels whose readers stall, under a small --max-buffered: the
//   server's budget pauses them (its /metrics say so), the RSS of both
//   processes stays bounded, and once the readers read, every tunnel
//   arrives byte-exact;
// - a proxy out of file descriptors says so (log line, 503), keeps serving
//   and opens tunnels again once some close.
// Timings are never asserted: `npm run bench -- --scale` measures them.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { digestOf, patternDigest, startEcho, startSource } from '../fixtures/byteStreams';
import { tempDir } from '../fixtures/tmp';
import { connectThroughProxy, roundTrip, waitFor } from '../fixtures/tunnel';
import { spawnDaemon, waitForOutput } from '../../scripts/harness/processes';
import { CONNECT_READY } from '../../scripts/harness/wsshProcesses';
import { WSSH_CLI, spawnWsshConnect, spawnWsshServer, writeHosts, type WsshProcess } from '../fixtures/wssh';

const MiB = 1024 * 1024;
const mib = (n: number) => (n / MiB).toFixed(1);
const NO_LIMITS = ['--max-tunnels', '0', '--max-tunnels-per-client', '0'];

async function chain(t: TestContext, hosts: string, extra: string[] = []) {
  const server = await spawnWsshServer(hosts, [...NO_LIMITS, ...extra]);
  t.after(() => server.stop());
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${server.port}/ssh`, ['--quiet', ...extra]);
  t.after(() => proxy.stop());
  return { server, proxy };
}

async function metric(server: WsshProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  if (!match) throw new Error(`no ${name} in /metrics:\n${text}`);
  return Number(match[1]);
}

test('a burst of 600 tunnels opened at once through wssh connect and wssh server: every one opens and echoes', async (t) => {
  const TUNNELS = 600;
  const dir = tempDir(t, 'wssh-burst-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const { server, proxy } = await chain(t, writeHosts(dir, `"127.0.0.1:${echo.port}": true\n`));
  const sockets: net.Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy()));
  const replies = await Promise.all(Array.from({ length: TUNNELS }, () => connectThroughProxy(proxy.port, `127.0.0.1:${echo.port}`, { timeoutMs: 120_000 })));
  const refused = replies.filter((r) => r.status !== 200);
  assert.deepEqual(
    refused.map((r) => `${r.statusLine} ${r.body}`),
    [],
    'no tunnel refused',
  );
  for (const r of replies) sockets.push(r.socket);
  const echoed = await Promise.all(replies.map((r, i) => roundTrip(r.socket, Buffer.from(`tunnel ${i}\n`), 120_000)));
  echoed.forEach((data, i) => assert.equal(data.toString(), `tunnel ${i}\n`));
  assert.doesNotMatch(server.output(), /status=(408|503)/, 'no header timeout or busy refusal at the server');
  assert.equal(await metric(server, 'wssh_tunnels_open'), TUNNELS);
});

test('stalled readers under --max-buffered 4: the budget pauses them, memory stays bounded, then every tunnel arrives byte-exact', async (t) => {
  // Large enough per tunnel to get past the kernel's socket buffers on
  // loopback (about 10 MiB a hop once autotuned) into the processes' own.
  const TUNNELS = 24;
  const SIZE = 24 * MiB;
  // A sanity bound (Node's own read buffers and garbage come and go at full
  // speed); the budget itself is checked on the server's gauge below.
  const RSS_ALLOWANCE = 96 * MiB;
  const BUDGET = 4 * MiB;
  // Per tunnel, what may exceed the budget: its share and one read in flight.
  const BUFFERED_BOUND = BUDGET + TUNNELS * 128 * 1024;
  const dir = tempDir(t, 'wssh-budget-');
  const source = await startSource(SIZE, 'stalled');
  t.after(() => source.close());
  const { server, proxy } = await chain(t, writeHosts(dir, `"127.0.0.1:${source.port}": true\n`), ['--max-buffered', '4']);
  const base = { server: server.peakRss(), proxy: proxy.peakRss() };
  assert.equal(await metric(server, 'wssh_buffer_budget_bytes'), BUDGET);

  // The clients do not read: every hop fills, the kernel's buffers first.
  const replies = await Promise.all(Array.from({ length: TUNNELS }, () => connectThroughProxy(proxy.port, `127.0.0.1:${source.port}`, { timeoutMs: 120_000 })));
  t.after(() => replies.forEach((r) => r.socket.destroy()));
  assert.deepEqual(
    replies.filter((r) => r.status !== 200).map((r) => r.statusLine),
    [],
  );
  for (const deadline = Date.now() + 60_000; (await metric(server, 'wssh_buffer_pauses_total')) === 0;) {
    if (Date.now() > deadline) throw new Error(`the server's budget never paused a tunnel; it buffers ${await metric(server, 'wssh_buffered_bytes')} bytes`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const buffered = await metric(server, 'wssh_buffered_bytes');
  assert.ok(buffered <= BUFFERED_BOUND, `the server buffers ${buffered} bytes, over ${BUFFERED_BOUND}`);
  const peak = { server: server.peakRss(), proxy: proxy.peakRss() };
  t.diagnostic(
    `stalled: server holds ${mib(buffered)} MiB in its buffers; peak RSS server +${mib(peak.server - base.server)} MiB, ` +
      `proxy +${mib(peak.proxy - base.proxy)} MiB (allowance +${mib(RSS_ALLOWANCE)} MiB; without the budget up to ${TUNNELS} MiB in the server's send buffers)`,
  );
  for (const side of ['server', 'proxy'] as const) {
    assert.ok(peak[side] < base[side] + RSS_ALLOWANCE, `${side}: peak RSS ${mib(peak[side])} MiB, start ${mib(base[side])} MiB`);
  }

  // The readers read: every paused tunnel resumes and arrives whole.
  const expected = await patternDigest(SIZE, 'stalled');
  const results = await Promise.all(replies.map((r) => digestOf(r.socket)));
  for (const r of results) assert.deepEqual(r, { bytes: SIZE, sha256: expected });
  t.diagnostic(`after: peak RSS server ${mib(server.peakRss())} MiB, proxy ${mib(proxy.peakRss())} MiB`);
});

test('wssh connect out of file descriptors: a clear log line and 503, it keeps serving, and opens again once tunnels close', async (t) => {
  const dir = tempDir(t, 'wssh-emfile-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const server = await spawnWsshServer(writeHosts(dir, `"127.0.0.1:${echo.port}": true\n`), NO_LIMITS);
  t.after(() => server.stop());
  // A descriptor limit that a few tunnels exhaust (Node itself holds about 20).
  const proxy = spawnDaemon('wssh connect (ulimit -n 48)', 'bash', [
    '-c',
    `ulimit -n 48 && exec "$0" "$@"`,
    process.execPath,
    WSSH_CLI,
    'connect',
    `ws://127.0.0.1:${server.port}/ssh`,
    '--listen',
    '127.0.0.1:0',
    '--quiet',
  ]);
  t.after(() => proxy.stop());
  const port = Number((await waitForOutput(proxy, CONNECT_READY))[1]);

  const open: net.Socket[] = [];
  t.after(() => open.forEach((s) => s.destroy()));
  const answers: string[] = [];
  for (let i = 0; i < 40; i++) {
    let reply;
    try {
      reply = await connectThroughProxy(port, `127.0.0.1:${echo.port}`, { timeoutMs: 30_000 });
    } catch (err) {
      // Out of descriptors, an accept fails: libuv closes the connection at once.
      answers.push(`closed: ${(err as Error).message}`);
      continue;
    }
    if (reply.status === 200) open.push(reply.socket);
    else answers.push(`${reply.status} ${reply.body.trim()}`);
  }
  t.diagnostic(`${open.length} tunnels open; then: ${[...new Set(answers)].join(' | ')}`);
  assert.ok(open.length > 0 && answers.length > 0, 'some tunnels opened, then the descriptors ran out');
  assert.ok(
    answers.every((a) => /^503 cannot open a connection to ws:\/\/127\.0\.0\.1:\d+\/ssh: out of file descriptors \(EMFILE/.test(a) || a.startsWith('closed')),
    answers.join('\n'),
  );
  assert.doesNotMatch(answers.join('\n'), /undefined/);
  await waitFor(
    'the log line',
    () => /out of file descriptors \(EMFILE: the limit is 48 \(about 24 tunnels\)/.test(proxy.output()),
    10_000,
    () => proxy.output(),
  );
  assert.equal(proxy.exitStatus(), undefined, 'the proxy still runs');
  // Every tunnel open still works, and once some close, new ones open.
  const echoed = await roundTrip(open[0], Buffer.from('still here\n'), 30_000);
  assert.equal(echoed.toString(), 'still here\n');
  for (const s of open.splice(0, 4)) s.destroy();
  const again = await waitFor(
    'a tunnel to open again',
    async () => {
      const reply = await connectThroughProxy(port, `127.0.0.1:${echo.port}`, { timeoutMs: 30_000 }).catch(() => undefined);
      if (reply?.status === 200) return reply;
      reply?.socket.destroy();
      return undefined;
    },
    30_000,
  );
  open.push(again.socket);
});
