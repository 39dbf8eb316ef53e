// /metrics is live byte counters per server: read every few milliseconds by
// whoever reaches the port, they time a user's keystrokes (issue 24, item
// 12). It is served to this host and to the proxies named in --trust-proxy
// only, and not to a client such a proxy forwards; /healthz stays open (it
// says nothing). Real sockets: the server listens on every address, and the
// requests come from this machine's own non-loopback address (when it has
// one) and from loopback as nginx would send them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import { WsshServer } from '../../server/wsshServer';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import type { TrustProxy } from '../../server/clientAddress';

/** This machine's first non-loopback IPv4 address, if it has one. */
function outsideAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

async function server(t: { after(fn: () => unknown): void }, trustProxy?: TrustProxy): Promise<number> {
  const policy = HostsPolicy.parse('');
  const s = new WsshServer({ policy: () => policy, keepaliveMs: 0, trustProxy });
  const { port } = await s.listen(0, '0.0.0.0');
  t.after(() => s.close());
  return port;
}

/** The status of `GET path` sent to `host:port` from `from`, with `headers`. */
function status(port: number, host: string, path: string, headers: Record<string, string> = {}, from?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host, localAddress: from });
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('error', reject);
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), body: text.split('\r\n\r\n')[1] ?? '' }));
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`);
  });
}

test('/metrics from another machine is refused; /healthz is not', async (t) => {
  const outside = outsideAddress();
  if (!outside) return t.skip('this machine has no non-loopback IPv4 address to ask from');
  const port = await server(t);
  const metrics = await status(port, outside, '/metrics', {}, outside);
  assert.equal(metrics.status, 403, metrics.body);
  assert.doesNotMatch(metrics.body, /wssh_bytes_total/);
  assert.match(metrics.body, /only to this host and the --trust-proxy addresses/);
  assert.equal((await status(port, outside, '/healthz', {}, outside)).status, 200);
  // A forged X-Forwarded-For from there changes nothing, even with --trust-proxy always.
  const always = await server(t, 'always');
  assert.equal((await status(always, outside, '/metrics', { 'X-Forwarded-For': '127.0.0.1' }, outside)).status, 403);
});

test('/metrics from this host is served; one nginx forwards from a client is not', async (t) => {
  const port = await server(t);
  const local = await status(port, '127.0.0.1', '/metrics');
  assert.equal(local.status, 200);
  assert.match(local.body, /wssh_bytes_total\{direction="up"\}/);
  // nginx on this host proxying a request from the internet (a location that forwards /metrics).
  const forwarded = await status(port, '127.0.0.1', '/metrics', { 'X-Forwarded-For': '203.0.113.9' });
  assert.equal(forwarded.status, 403, forwarded.body);
  assert.equal((await status(port, '127.0.0.1', '/metrics', { 'X-Forwarded-For': '203.0.113.9, 127.0.0.1' })).status, 403);
  assert.equal((await status(port, '127.0.0.1', '/metrics', { 'X-Real-IP': '203.0.113.9' })).status, 403);
  assert.equal((await status(port, '127.0.0.1', '/metrics', { Forwarded: 'for=203.0.113.9;proto=https' })).status, 403);
  assert.equal((await status(port, '127.0.0.1', '/metrics', { Forwarded: 'for="[2001:db8::1]:4711"' })).status, 403);
  // Forwarding for itself (a chain on this host) is still this host.
  assert.equal((await status(port, '127.0.0.1', '/metrics', { 'X-Forwarded-For': '127.0.0.1' })).status, 200);
  assert.equal((await status(port, '127.0.0.1', '/metrics', { Forwarded: 'for="[::1]:80", for=127.0.0.1' })).status, 200);
});

test('/metrics from a proxy named in --trust-proxy is served, for itself only', async (t) => {
  const outside = outsideAddress();
  if (!outside) return t.skip('this machine has no non-loopback IPv4 address to ask from');
  const port = await server(t, [`${outside}/32`]);
  assert.equal((await status(port, outside, '/metrics', {}, outside)).status, 200);
  assert.equal((await status(port, outside, '/metrics', { 'X-Forwarded-For': '203.0.113.9' }, outside)).status, 403);
});
