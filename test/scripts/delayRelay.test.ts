// The bench's link with latency (scripts/harness/delayRelay.ts) and its
// server with a chosen resume window (scripts/bench/windowServer.ts): the
// window sizing in `npm run bench -- --resume` measures what it says only
// if the relay delays without losing or reordering a byte, and the server
// offers the window it was given.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { DelayRelay } from '../../scripts/harness/delayRelay';
import { startListening } from '../../scripts/harness/processes';
import { SERVER_READY } from '../../scripts/harness/wsshProcesses';
import { RESUME_TOKEN_HEADER, RESUME_WINDOW_HEADER, offerHeaders, newSessionKey } from '../../src/core/tunnel/resumeProtocol';
import { startEcho } from '../fixtures/byteStreams';
import { readExactly } from '../fixtures/tunnel';
import { tempDir } from '../fixtures/tmp';
import { writeHosts } from '../fixtures/wssh';

const WINDOW_SERVER = path.join(__dirname, '..', '..', 'scripts', 'bench', 'windowServer.js');

test('the delaying relay carries every byte both ways, in order, each no sooner than the delay; a FIN is passed on after the bytes before it', async () => {
  const echo = await startEcho();
  const relay = new DelayRelay(echo.port, { delayMs: 50, maxQueued: 256 * 1024 });
  await relay.listen();
  try {
    const socket = net.connect({ port: relay.port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise((resolve) => socket.once('connect', resolve));
    // The first byte: a round trip through the relay is two delays.
    const t0 = performance.now();
    const first = readExactly(socket, 1, 20_000);
    socket.write('x');
    await first;
    assert.ok(performance.now() - t0 >= 95, `a round trip took ${(performance.now() - t0).toFixed(1)} ms, less than the two 50 ms delays`);
    // More than the queue holds: reading pauses and resumes, nothing is lost or reordered.
    const data = crypto.randomBytes(4 * 1024 * 1024);
    const back = readExactly(socket, data.length, 60_000);
    socket.write(data);
    socket.end();
    assert.ok((await back).equals(data), 'the echo through the relay differs');
    const ended = new Promise((resolve) => socket.once('end', resolve));
    socket.resume();
    await ended;
    socket.destroy();
  } finally {
    relay.close();
    await echo.close();
  }
});

/** The response headers to a resumable upgrade at `port`. */
function offer(port: number, target: string): Promise<Record<string, string | string[] | undefined>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ssh/${encodeURIComponent(target)}`, { headers: offerHeaders(newSessionKey()), perMessageDeflate: false });
    ws.once('upgrade', (res) => resolve(res.headers));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', () => {});
    ws.once('open', () => ws.terminate());
  });
}

test("the bench's window server offers the window it was given, and no resume when off", async (t) => {
  const dir = tempDir(t, 'wssh-window-server-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const target = `127.0.0.1:${echo.port}`;
  const hosts = writeHosts(dir, `"${target}": true\n`);
  for (const [arg, window] of [
    ['262144', '262144'],
    ['off', undefined],
  ] as const) {
    const server = await startListening('window server', process.execPath, [WINDOW_SERVER, hosts, arg], SERVER_READY);
    try {
      const headers = await offer(server.port, target);
      assert.equal(headers[RESUME_WINDOW_HEADER.toLowerCase()], window, server.output());
      assert.equal(headers[RESUME_TOKEN_HEADER.toLowerCase()] !== undefined, window !== undefined);
    } finally {
      await server.stop();
    }
  }
});
