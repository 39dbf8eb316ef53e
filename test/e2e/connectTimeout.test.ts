// The WSSH server's connect timeout against a target that never answers the
// TCP connect: a listener whose accept queue is full, made with python3
// (Node accepts every connection itself). The server's other refusals:
// test/server/wsshServer.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { WsshServer } from '../../server/wsshServer';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { requireProgram } from '../../scripts/harness/programs';
import { attempt } from '../fixtures/upgradeClient';

test('a target that never answers the TCP connect gets 504 after the connect timeout', async (t) => {
  // A listener whose accept queue is full drops further SYNs: the connect hangs.
  // (Node accepts every connection itself: the listener is python's.)
  const python3 = requireProgram(t, 'python3');
  if (!python3) return;
  const python = spawn(
    python3,
    ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.after(() => python.kill());
  const port = await new Promise<number>((resolve, reject) => {
    python.once('error', reject);
    python.stdout.once('data', (d) => resolve(Number(String(d).trim())));
  });
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 3; i++) fillers.push(net.connect(port, '127.0.0.1').on('error', () => {}));
  t.after(() => fillers.forEach((s) => s.destroy()));
  // Once one is in the queue (listen(0) holds one), every further SYN is dropped.
  await Promise.any(fillers.map((s) => new Promise((resolve) => s.once('connect', resolve))));
  const policy = HostsPolicy.parse(`stuck.lan: "127.0.0.1:${port}"`);
  const server = new WsshServer({ policy: () => policy, keepaliveMs: 0, connectTimeoutMs: 500 });
  const address = await server.listen(0);
  t.after(() => server.close());
  const { status, body } = await attempt(`ws://127.0.0.1:${address.port}/ssh/stuck.lan`);
  assert.equal(status, 504);
  assert.match(body!, /timed out connecting/);
});
