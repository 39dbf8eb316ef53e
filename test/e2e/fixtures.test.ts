// Proves each fixture works with the real programs, so that when an
// end-to-end test fails, the fixtures are not the suspect. Each test skips
// (or fails in CI) when a program it needs is missing.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { freePort } from '../../scripts/harness/ports';
import { requirePrograms } from '../../scripts/harness/programs';
import { makeCertificates } from '../../scripts/harness/tls';
import { startNginx } from '../../scripts/harness/nginx';
import { plinkSession, runPlink, ProxyMethod } from '../fixtures/plink';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { puttyKey, startSshd } from '../fixtures/sshd';
import { tempDir } from '../fixtures/tmp';

test('sshd: ssh logs in directly and through a ProxyCommand', async (t) => {
  const p = requirePrograms(t, 'sshd', 'ssh', 'ssh-keygen', 'nc');
  if (!p) return;
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  assert.match(sshd.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);

  const direct = await runSsh([...sshArgs(sshd), 'echo', 'ok'], { timeoutMs: 20_000 });
  assert.equal(direct.stderr, '');
  assert.equal(direct.code, 0);
  assert.equal(direct.stdout.toString(), 'ok\n');

  // As a user types it: a host name, and the ProxyCommand opens the stream.
  // ssh checks the key under `[localhost]:PORT`, which known_hosts covers.
  const proxied = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: 'nc %h %p' }), 'echo', 'ok'], {
    timeoutMs: 20_000,
  });
  assert.equal(proxied.code, 0, proxied.stderr);
  assert.equal(proxied.stdout.toString(), 'ok\n');

  // An alias that only the ProxyCommand knows how to reach.
  const alias = await runSsh([...sshArgs(sshd, { host: 'db1.lan', proxyCommand: `nc 127.0.0.1 %p` }), 'cat'], {
    input: Buffer.from('bytes in, bytes out'),
    timeoutMs: 20_000,
  });
  assert.equal(alias.code, 0, alias.stderr);
  assert.equal(alias.stdout.toString(), 'bytes in, bytes out');

  // A changed host key is refused (the check is real, not disabled): a
  // known_hosts naming this sshd's address with another sshd's key.
  const otherDir = tempDir(t, 'wssh-sshd-other-');
  const other = await startSshd(otherDir);
  t.after(() => other.stop());
  const mismatched = path.join(otherDir, 'known_hosts-mismatch');
  const [patterns] = sshd.knownHostsLine.split(' ');
  const otherKey = other.knownHostsLine.split(' ').slice(1).join(' ');
  fs.writeFileSync(mismatched, `${patterns} ${otherKey}\n`);
  const refused = await runSsh([...sshArgs({ ...sshd, knownHosts: mismatched }), 'true'], { timeoutMs: 20_000 });
  assert.equal(refused.code, 255);
  assert.match(refused.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);

  assert.equal(sshd.log(), '');
});

test('plink logs in with a saved session without a proxy', async (t) => {
  const p = requirePrograms(t, 'sshd', 'ssh-keygen', 'plink', 'puttygen');
  if (!p) return;
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const ppk = await puttyKey(sshd);
  assert.match(fs.readFileSync(ppk, 'utf8'), /^PuTTY-User-Key-File-3: ssh-ed25519/);
  const home = tempDir(t, 'wssh-plink-home-');
  plinkSession(home, 'direct', { proxyMethod: ProxyMethod.none });
  const common = { home, session: 'direct', host: sshd.host, port: sshd.port, user: sshd.user, ppk, hostkey: sshd.hostKeyFingerprint };

  const r = await runPlink({ ...common, command: 'echo ok', timeoutMs: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'ok\n');

  const echoed = await runPlink({ ...common, command: 'cat', input: Buffer.from('via plink'), timeoutMs: 20_000 });
  assert.equal(echoed.stdout.toString(), 'via plink');

  // A proxy session really uses the proxy: nothing listens there, so it fails.
  plinkSession(home, 'deadproxy', { proxyHost: '127.0.0.1', proxyPort: await freePort() });
  const viaDead = await runPlink({ ...common, session: 'deadproxy', command: 'echo ok', timeoutMs: 20_000 });
  assert.equal(viaDead.code, 1);
  assert.match(viaDead.stderr, /FATAL ERROR: Connection refused/);
});

test('nginx with TLS proxies HTTP and WebSocket upgrades to an upstream', async (t) => {
  const p = requirePrograms(t, 'nginx', 'openssl');
  if (!p) return;
  const dir = tempDir(t, 'wssh-tls-');
  const certs = await makeCertificates(dir);

  // The upstream: answers plain requests with what it saw, and echoes WebSocket messages.
  const upstream = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  const wss = new WebSocketServer({ server: upstream });
  wss.on('connection', (ws, req) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.send(`xff=${req.headers['x-forwarded-for']}`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => upstream.close(() => r())));
  const upstreamPort = (upstream.address() as { port: number }).port;

  const nginx = await startNginx({ upstreamPort, tls: { cert: certs.serverCert, key: certs.serverKey }, readTimeoutSeconds: 5 });
  t.after(() => nginx.stop());
  assert.equal(nginx.url, `wss://localhost:${nginx.port}/ssh`);
  const ca = fs.readFileSync(certs.caCert);

  const body = await new Promise<string>((resolve, reject) => {
    https
      .get(`https://localhost:${nginx.port}/ssh/db1.lan`, { ca }, (res) => {
        let s = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (s += c));
        res.on('end', () => resolve(s));
      })
      .on('error', reject);
  });
  const seen = JSON.parse(body) as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/ssh/db1.lan');
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen.headers.connection, 'close'); // no Upgrade header: the map yields close
  assert.equal(seen.headers['x-forwarded-proto'], 'https');

  // Without the CA the certificate is rejected: TLS is really checked.
  await assert.rejects(
    new Promise((resolve, reject) => https.get(`https://localhost:${nginx.port}/ssh/x`, { ca: [] as Buffer[] }, resolve).on('error', reject)),
    /self[- ]signed|unable to (get|verify)/i,
  );

  const ws = new WebSocket(`${nginx.url}/db1.lan`, { ca });
  const messages: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      messages.push(data.toString());
      if (messages.length === 1) ws.send(Buffer.from('ping through nginx'));
      if (messages.length === 2) resolve();
    });
    ws.on('error', reject);
  });
  assert.deepEqual(messages, ['xff=127.0.0.1', 'ping through nginx']);
  ws.close();
  assert.doesNotMatch(nginx.log(), /\[(emerg|alert|crit)\]/);
});
