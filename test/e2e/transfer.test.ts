// Byte-exact bulk transfers through the whole chain, and memory under
// backpressure:
//
//   raw TCP client -CONNECT-> wssh connect -ws-> [nginx, TLS] -ws-> wssh server -TCP-> sink / source
//
// 64 MiB each way, sha256 compared with the pattern's digest; the download's
// source closes right after its last byte, so a relay that drops bytes still
// in flight at the close would fail. Then a reader that stalls for 3 s, at
// either end: the proxy's and the server's peak RSS (VmHWM, from /proc) must
// stay far below the 64 MiB the transfer would buffer without backpressure.

import { test, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import { pipeline } from 'node:stream/promises';
import { requirePrograms } from '../../scripts/harness/programs';
import { makeCertificates } from '../../scripts/harness/tls';
import { startNginx } from '../../scripts/harness/nginx';
import { digestOf, patternDigest, patternStream, startSink, startSource, type FarEnd } from '../fixtures/byteStreams';
import { spawnWsshConnect, spawnWsshServer, writeHosts, type WsshProcess } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { connectThroughProxy, waitFor } from '../fixtures/tunnel';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
/**
 * How much a wssh process may grow over its resident size at start while the
 * reader at one end is stalled. Without backpressure the whole 64 MiB would
 * pile up in the proxy or the server within a fraction of a second (the chain
 * moves over 150 MiB/s here); with it, only the relay's 1 MiB high-water mark
 * and the sockets' buffers fill. Measured: +8 to +20 MiB.
 */
const STALLED_RSS_BUDGET = 32 * MiB;
/**
 * The bound for the whole transfer, read at full speed after the stall: below
 * the transfer size. A Node process relaying at full speed carries tens of MiB
 * of freed-but-not-yet-collected Buffers (V8 collects external memory in steps
 * of about 64 MiB), the same for 16 MiB as for 512 MiB transferred (measured
 * +31 to +44 MiB), so this proves no buffering, not a tighter figure.
 */
const TRANSFER_RSS_BUDGET = SIZE;
const STALL_MS = 3000;

const mib = (bytes: number) => (bytes / MiB).toFixed(1);

/** Allows each far end's port (hosts.yml: only port 22 unless a rule names the port). */
function hostsFor(dir: string, ...ends: FarEnd[]): string {
  return writeHosts(dir, ends.map((e) => `"127.0.0.1:${e.port}": true`).join('\n') + '\n');
}

/** Uploads SIZE pattern bytes through the proxy into `sink`; resolves with MiB/s once the sink has them all. */
async function upload(t: TestContext, proxy: WsshProcess, sink: Awaited<ReturnType<typeof startSink>>, seed: string) {
  const expected = patternDigest(SIZE, seed);
  const tunnel = await connectThroughProxy(proxy.port, `127.0.0.1:${sink.port}`);
  assert.equal(tunnel.status, 200, tunnel.body);
  t.after(() => tunnel.socket.destroy());
  const started = Date.now();
  const received = sink.next();
  // pipeline ends the socket after the last byte: the FIN must reach the sink behind all of them.
  await pipeline(patternStream(SIZE, seed), tunnel.socket);
  const got = await received;
  const seconds = (Date.now() - started) / 1000;
  assert.equal(got.bytes, SIZE);
  assert.equal(got.sha256, await expected);
  return SIZE / MiB / seconds;
}

/** Downloads from `source` through the proxy; resolves with MiB/s after comparing the sha256. */
async function download(t: TestContext, proxy: WsshProcess, source: FarEnd, seed: string) {
  const expected = patternDigest(SIZE, seed);
  const started = Date.now();
  const tunnel = await connectThroughProxy(proxy.port, `127.0.0.1:${source.port}`);
  assert.equal(tunnel.status, 200, tunnel.body);
  t.after(() => tunnel.socket.destroy());
  const got = await digestOf(tunnel.socket);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(got.bytes, SIZE);
  assert.equal(got.sha256, await expected);
  return SIZE / MiB / seconds;
}

/** A fresh server and proxy, so that their peak RSS belongs to one transfer. */
async function freshChain(t: TestContext, hostsFile: string) {
  const server = await spawnWsshServer(hostsFile);
  t.after(() => server.stop());
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${server.port}/ssh`, ['--quiet']);
  t.after(() => proxy.stop());
  return { server, proxy, base: { server: server.peakRss(), proxy: proxy.peakRss() } };
}

/**
 * Asserts that neither process grew by `budget` or more over its resident size
 * at start, and prints the numbers.
 */
function checkRss(t: TestContext, when: string, chain: Awaited<ReturnType<typeof freshChain>>, budget: number) {
  const peak = { server: chain.server.peakRss(), proxy: chain.proxy.peakRss() };
  t.diagnostic(
    `${when}: peak RSS server ${mib(peak.server)} MiB (start ${mib(chain.base.server)}, +${mib(peak.server - chain.base.server)}), ` +
      `proxy ${mib(peak.proxy)} MiB (start ${mib(chain.base.proxy)}, +${mib(peak.proxy - chain.base.proxy)}); budget +${mib(budget)} MiB`,
  );
  for (const side of ['server', 'proxy'] as const) {
    assert.ok(
      peak[side] < chain.base[side] + budget,
      `${side}: peak RSS ${mib(peak[side])} MiB is not below ${mib(chain.base[side])} + ${mib(budget)} MiB (${when})`,
    );
  }
}

test('64 MiB each way, byte-exact, through wssh connect and wssh server', async (t) => {
  const dir = tempDir(t, 'wssh-e2e-transfer-');
  const sink = await startSink();
  t.after(() => sink.close());
  const source = await startSource(SIZE, 'download');
  t.after(() => source.close());
  const hostsFile = hostsFor(dir, sink, source);
  const server = await spawnWsshServer(hostsFile);
  t.after(() => server.stop());
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${server.port}/ssh`);
  t.after(() => proxy.stop());

  await t.test('upload 64 MiB into a TCP sink', async (st) => {
    const rate = await upload(st, proxy, sink, 'upload');
    st.diagnostic(`upload 64 MiB: ${rate.toFixed(1)} MiB/s`);
  });

  await t.test('download 64 MiB from a source that closes right after its last byte', async (st) => {
    const rate = await download(st, proxy, source, 'download');
    st.diagnostic(`download 64 MiB: ${rate.toFixed(1)} MiB/s`);
  });

  await t.test('the logs count every byte', async () => {
    const all = String(SIZE);
    // Proxy: "tunnel N closed TARGET up=U down=D (reason)"; server: "… up=U down=D duration=…".
    // A tunnel's line comes when both of its sides have closed, a moment after the client saw the end.
    const lines = [
      [proxy, `tunnel \\d+ closed 127\\.0\\.0\\.1:${sink.port} up=${all} down=0 `],
      [proxy, `tunnel \\d+ closed 127\\.0\\.0\\.1:${source.port} up=0 down=${all} `],
      [server, `closed client=127\\.0\\.0\\.1 target=127\\.0\\.0\\.1:${sink.port} via=\\S+ up=${all} down=0 `],
      [server, `closed client=127\\.0\\.0\\.1 target=127\\.0\\.0\\.1:${source.port} via=\\S+ up=0 down=${all} `],
    ] as const;
    for (const [daemon, pattern] of lines) {
      await waitFor(
        `/${pattern}/ in the ${daemon.name} log`,
        () => new RegExp(pattern).test(daemon.output()),
        10_000,
        () => daemon.output(),
      );
    }
  });
});

test('64 MiB download through nginx with TLS, byte-exact', async (t) => {
  const programs = requirePrograms(t, 'nginx', 'openssl');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-transfer-tls-');
  const certs = await makeCertificates(dir);
  const source = await startSource(SIZE, 'tls');
  t.after(() => source.close());
  const sink = await startSink();
  t.after(() => sink.close());
  const server = await spawnWsshServer(hostsFor(dir, source, sink));
  t.after(() => server.stop());
  const nginx = await startNginx({ upstreamPort: server.port, tls: { cert: certs.serverCert, key: certs.serverKey } });
  t.after(() => nginx.stop());
  const proxy = await spawnWsshConnect(nginx.url, ['--ca', certs.caCert]);
  t.after(() => proxy.stop());

  const down = await download(t, proxy, source, 'tls');
  t.diagnostic(`download 64 MiB through nginx + TLS: ${down.toFixed(1)} MiB/s`);
  const up = await upload(t, proxy, sink, 'tls-up');
  t.diagnostic(`upload 64 MiB through nginx + TLS: ${up.toFixed(1)} MiB/s`);
});

test('backpressure: a client that stops reading; proxy and server memory stay flat', async (t) => {
  const dir = tempDir(t, 'wssh-e2e-backpressure-down-');
  const source = await startSource(SIZE, 'slow-reader');
  t.after(() => source.close());
  const chain = await freshChain(t, hostsFor(dir, source));
  const expected = patternDigest(SIZE, 'slow-reader');

  const tunnel = await connectThroughProxy(chain.proxy.port, `127.0.0.1:${source.port}`);
  assert.equal(tunnel.status, 200, tunnel.body);
  t.after(() => tunnel.socket.destroy());
  // connectThroughProxy leaves the socket paused: nothing is read for STALL_MS.
  assert.ok(tunnel.socket.isPaused());
  await new Promise((r) => setTimeout(r, STALL_MS));
  checkRss(t, `download, client stalled ${STALL_MS / 1000} s`, chain, STALLED_RSS_BUDGET);

  const got = await digestOf(tunnel.socket);
  assert.equal(got.bytes, SIZE);
  assert.equal(got.sha256, await expected);
  checkRss(t, 'download, after the whole 64 MiB', chain, TRANSFER_RSS_BUDGET);
});

test('backpressure: a sink that stops reading; proxy and server memory stay flat', async (t) => {
  const dir = tempDir(t, 'wssh-e2e-backpressure-up-');
  let endStall!: () => void;
  const sink = await startSink({ readAfter: new Promise<void>((resolve) => (endStall = resolve)) });
  t.after(() => sink.close());
  const chain = await freshChain(t, hostsFor(dir, sink));
  const expected = patternDigest(SIZE, 'slow-sink');

  const tunnel = await connectThroughProxy(chain.proxy.port, `127.0.0.1:${sink.port}`);
  assert.equal(tunnel.status, 200, tunnel.body);
  t.after(() => tunnel.socket.destroy());
  const received = sink.next();
  let written = 0;
  const source = patternStream(SIZE, 'slow-sink');
  source.on('data', (c: Buffer) => (written += c.length));
  const sent = pipeline(source, tunnel.socket);

  // The sink reads nothing until told to: STALL_MS is the least the stall lasts.
  await new Promise((r) => setTimeout(r, STALL_MS));
  // The client could hand over only what the buffers along the way hold.
  t.diagnostic(`while the sink stalled, the client got ${mib(written)} MiB into the tunnel`);
  assert.ok(written < SIZE / 2, `${mib(written)} MiB went in while nothing was read at the far end`);
  checkRss(t, `upload, sink stalled ${STALL_MS / 1000} s`, chain, STALLED_RSS_BUDGET);

  endStall();
  await sent;
  const got = await received;
  assert.equal(got.bytes, SIZE);
  assert.equal(got.sha256, await expected);
  checkRss(t, 'upload, after the whole 64 MiB', chain, TRANSFER_RSS_BUDGET);
});
