// The server checks the upgrade request before it connects to the target
// (issue 10): a bad key, no version, a POST: each refused with a status, and
// the target never sees a connection.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { WsshServer } from '../../server/wsshServer';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { rawRequest } from '../fixtures/upgradeClient';
import { waitFor } from '../fixtures/tunnel';

let target: net.Server;
let targetPort: number;
let accepted = 0;
let server: WsshServer;
let port: number;

before(async () => {
  target = net.createServer((s) => {
    accepted++;
    s.destroy();
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetPort = (target.address() as net.AddressInfo).port;
  const policy = HostsPolicy.parse(`"127.0.0.1:${targetPort}": true\n`);
  server = new WsshServer({ policy: () => policy, keepaliveMs: 0 });
  port = (await server.listen(0)).port;
});
after(async () => {
  await server.close();
  await new Promise((r) => target.close(r));
});

const request = (method: string, headers: string) =>
  `${method} /ssh/127.0.0.1%3A${targetPort} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}\r\n`;

test('bad key, missing version, POST: refused before any connect to the target', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['GET', 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: not-a-key\r\n', /^HTTP\/1\.1 400 /],
    ['GET', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n', /^HTTP\/1\.1 400 [^]*Sec-WebSocket-Version: 13/],
    ['GET', 'Sec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n', /^HTTP\/1\.1 400 /],
    ['POST', 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 0\r\n', /^HTTP\/1\.1 405 /],
  ];
  for (const [method, headers, expected] of cases) {
    const answer = await rawRequest(port, request(method, headers));
    assert.match(answer, expected, `${method} ${JSON.stringify(headers)}: ${answer}`);
  }
  assert.equal(accepted, 0, 'a refused request reached the target');
  // A good request does connect: the count works.
  const good = net.connect(port, '127.0.0.1');
  good.on('error', () => {});
  good.write(request('GET', 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'));
  await waitFor('the good request to reach the target', () => accepted === 1);
  good.destroy();
  assert.match(server.metrics.prometheus(), /wssh_refusals_total\{status="400",reason="not-websocket"\} 3/);
});
