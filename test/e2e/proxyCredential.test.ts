// The local proxy's own credential (issue 10: another local account rode the
// proxy with its owner's endpoint credentials). With `wssh connect
// --proxy-user`, a client without it gets 407 (HTTP) or a SOCKS refusal;
// plink with ProxyUsername/ProxyPassword in its session (HTTP and SOCKS5)
// reaches a real sshd.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { requirePrograms } from '../../scripts/harness/programs';
import { tempDir } from '../fixtures/tmp';
import { puttyKey, startSshd } from '../fixtures/sshd';
import { ProxyMethod, plinkAt, plinkSession } from '../fixtures/plink';
import { spawnWsshConnect, spawnWsshServer, writeHosts } from '../fixtures/wssh';

/**
 * Sends `writes` (each after the previous answer's bytes) and resolves with all
 * that came back: at the close, or as soon as `enough` says so (the connection
 * is then closed), or at the deadline.
 */
function exchange(port: number, writes: Buffer[], enough: (got: Buffer) => boolean = () => false, waitMs = 15_000): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    socket.on('error', () => {});
    socket.on('data', (c) => {
      got.push(c);
      if (enough(Buffer.concat(got))) return socket.destroy();
      const next = writes.shift();
      if (next) socket.write(next);
    });
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
    socket.on('connect', () => socket.write(writes.shift()!));
  });
}

test('wssh connect --proxy-user: no credential, no tunnel; plink with ProxyUsername/ProxyPassword gets through', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'plink', 'puttygen');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-proxyuser-');
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const ppk = await puttyKey(sshd);
  const server = await spawnWsshServer(writeHosts(dir, `"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"\n`));
  t.after(() => server.stop());
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${server.port}/ssh`, ['--proxy-user', 'putty:pa55:word']);
  t.after(() => proxy.stop());
  const target = `localhost:${sshd.port}`;

  // "nobody": a plain CONNECT, a wrong password, SOCKS5 without and with a wrong password, SOCKS4.
  const bare = (await exchange(proxy.port, [Buffer.from(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`)])).toString('latin1');
  assert.match(bare, /^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
  assert.match(bare, /\r\nProxy-Authenticate: Basic realm="wssh local proxy"\r\n/);
  const wrong = (
    await exchange(proxy.port, [
      Buffer.from(`CONNECT ${target} HTTP/1.1\r\nProxy-Authorization: Basic ${Buffer.from('putty:guess').toString('base64')}\r\n\r\n`),
    ])
  ).toString('latin1');
  assert.match(wrong, /^HTTP\/1\.1 407 /);
  assert.deepEqual([...(await exchange(proxy.port, [Buffer.from([5, 1, 0])]))], [5, 0xff]);
  const user = Buffer.from('putty');
  const pass = Buffer.from('guess');
  const socksWrong = await exchange(proxy.port, [
    Buffer.from([5, 1, 2]),
    Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]),
  ]);
  assert.deepEqual([...socksWrong], [5, 2, 1, 1]);
  const socks4 = await exchange(proxy.port, [Buffer.concat([Buffer.from([4, 1, sshd.port >> 8, sshd.port & 255, 127, 0, 0, 1]), Buffer.from('x\0')])]);
  assert.equal(socks4[1], 0x5b);
  assert.doesNotMatch(proxy.output(), /tunnel \d+ open/);

  // The right credential with an HTTP client: 200 and the SSH banner.
  // The tunnel stays open: the exchange ends once sshd's banner line has come through it.
  const banner = (got: Buffer) => /\r\n\r\nSSH-2\.0-[^\n]*\n/.test(got.toString('latin1'));
  const good = (
    await exchange(
      proxy.port,
      [Buffer.from(`CONNECT ${target} HTTP/1.1\r\nProxy-Authorization: Basic ${Buffer.from('putty:pa55:word').toString('base64')}\r\n\r\n`)],
      banner,
    )
  ).toString('latin1');
  assert.match(good, /^HTTP\/1\.1 200 Connection established\r\n\r\nSSH-2\.0-/);

  // plink, the user's client, with the credential in its saved session: HTTP and SOCKS5.
  const run = plinkAt({ home: dir, sshd, ppk, plink: programs.plink });
  for (const [name, method] of [
    ['http', ProxyMethod.http],
    ['socks5', ProxyMethod.socks5],
  ] as const) {
    const file = plinkSession(dir, name, { proxyHost: '127.0.0.1', proxyPort: proxy.port, proxyMethod: method });
    fs.appendFileSync(file, 'ProxyUsername=putty\nProxyPassword=pa55:word\n');
    const r = await run(name, 'localhost', 'echo ok');
    assert.equal(r.code, 0, `plink (${name}) failed: ${r.stderr}\n${proxy.output()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
  }
  // And plink without the credential is refused.
  plinkSession(dir, 'none', { proxyHost: '127.0.0.1', proxyPort: proxy.port });
  const refused = await run('none', 'localhost', 'echo ok');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /407|Proxy/i);
  void path;
});
