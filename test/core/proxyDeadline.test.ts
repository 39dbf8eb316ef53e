// One header deadline on the local proxy (issue 10): a client that waits most
// of the deadline before its first byte, then dribbles the rest, is cut at
// the deadline counted from its connection, not at the first byte plus a
// second deadline (19.9 s for a 10 s deadline before).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ConnectProxy } from '../../src/core/localProxy/connectProxy';
import { parseEndpoint } from '../../src/shared/endpoint';

test('a slow client is cut at its one deadline, with 408', async (t) => {
  const deadlineMs = 2000;
  const proxy = new ConnectProxy({ endpoint: parseEndpoint('ws://127.0.0.1:1/ssh'), headersTimeoutMs: deadlineMs });
  const { port } = await proxy.listen(0, '127.0.0.1');
  t.after(() => proxy.close());
  const started = Date.now();
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let answer = '';
  socket.on('data', (c) => (answer += c.toString('latin1')));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  // The first byte at 80% of the deadline, then one byte every 100 ms: never a whole request.
  const request = 'CONNECT db1.lan:22 HTTP/1.1\r\nHost: db1.lan:22\r\nX-Padding: ' + 'x'.repeat(200);
  let i = 0;
  const first = setTimeout(() => {
    const drip = setInterval(() => {
      if (socket.destroyed || i >= request.length) return clearInterval(drip);
      socket.write(request[i++]);
    }, 100);
  }, deadlineMs * 0.8);
  t.after(() => clearTimeout(first));
  const lived = await closed;
  assert.match(answer, /^HTTP\/1\.1 408 /);
  // Before the fix: cut at 0.8 + 1.0 deadlines. One deadline (plus the check interval and load) is well under 1.5.
  assert.ok(lived < deadlineMs * 1.5, `cut after ${lived} ms for a ${deadlineMs} ms deadline`);
});
