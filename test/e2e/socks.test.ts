// PuTTY's SOCKS proxy types through `wssh connect`, end to end: plink with a
// saved session whose proxy is SOCKS 5 or SOCKS 4 (4a when PuTTY leaves the
// name to the proxy) on the same port as HTTP CONNECT, then `wssh server`,
// then a real sshd; and OpenSSH's ssh through `nc -X 5` / `nc -X 4`.
// A host the WSSH server refuses shows in plink as the SOCKS refusal.

import { test } from 'node:test';
import * as fs from 'node:fs';
import * as assert from 'node:assert/strict';
import { requirePrograms } from '../../scripts/harness/programs';
import { puttyKey, startSshd } from '../fixtures/sshd';
import { ProxyMethod, plinkSession, plinkAt } from '../fixtures/plink';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { spawnWsshConnect, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { patternDigest, patternStream } from '../fixtures/byteStreams';
import { waitForOutput } from '../../scripts/harness/processes';
import { waitFor } from '../fixtures/tunnel';

test('plink and ssh through wssh connect as a SOCKS proxy', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'plink', 'puttygen', 'ssh', 'nc');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-socks-');

  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const ppk = await puttyKey(sshd);
  // SOCKS5 and SOCKS4a send the name (localhost:PORT), SOCKS4 an address (127.0.0.1:PORT).
  const hostsFile = writeHosts(dir, [`"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"`, `"127.0.0.1:${sshd.port}": true`, ''].join('\n'));
  const server = await spawnWsshServer(hostsFile);
  t.after(() => server.stop());
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${server.port}/ssh`);
  t.after(() => proxy.stop());

  const home = dir;
  plinkSession(home, 'socks5', { proxyHost: '127.0.0.1', proxyPort: proxy.port, proxyMethod: ProxyMethod.socks5 });
  plinkSession(home, 'socks4', { proxyHost: '127.0.0.1', proxyPort: proxy.port, proxyMethod: ProxyMethod.socks4 });
  // "Do DNS name lookup at proxy end: Yes": PuTTY then speaks SOCKS4a.
  const socks4a = plinkSession(home, 'socks4a', { proxyHost: '127.0.0.1', proxyPort: proxy.port, proxyMethod: ProxyMethod.socks4 });
  fs.appendFileSync(socks4a, 'ProxyDNS=2\n');
  const plink = plinkAt({ home, sshd, ppk, plink: programs.plink });
  const logs = () => `--- wssh server:\n${server.output()}\n--- wssh connect:\n${proxy.output()}`;
  const opened = (target: string) => new RegExp(`tunnel \\d+ open 127\\.0\\.0\\.1:\\d+ -> ${target.replace(/\./g, '\\.')}`);

  await t.test('plink, proxy type SOCKS 5: runs a command; the proxy got the name', async () => {
    const r = await plink('socks5', 'localhost', 'echo ok');
    assert.equal(r.code, 0, `plink failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    await waitForOutput(proxy, opened(`localhost:${sshd.port}`));
  });

  await t.test('plink over SOCKS 5 carries stdin byte-exact (sha256sum of 4 MiB)', async () => {
    const size = 4 * 1024 * 1024;
    const r = await plink('socks5', 'localhost', 'sha256sum', patternStream(size, 'socks'));
    assert.equal(r.code, 0, `plink failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), `${await patternDigest(size, 'socks')}  -\n`);
  });

  await t.test('plink, proxy type SOCKS 4: the address goes to the proxy', async () => {
    const r = await plink('socks4', '127.0.0.1', 'echo ok');
    assert.equal(r.code, 0, `plink failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    await waitForOutput(proxy, opened(`127.0.0.1:${sshd.port}`));
  });

  await t.test('plink, SOCKS 4 with DNS at the proxy (SOCKS4a): the name goes to the proxy', async () => {
    const before = (proxy.output().match(opened(`localhost:${sshd.port}`)) ?? []).length;
    const r = await plink('socks4a', 'localhost', 'echo ok');
    assert.equal(r.code, 0, `plink failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    await waitFor('another open line', () => [...proxy.output().matchAll(new RegExp(opened(`localhost:${sshd.port}`), 'g'))].length > before, 5000, logs);
  });

  await t.test('a host the WSSH server refuses: plink reports the SOCKS refusal, the proxy logs the reason', async () => {
    const r5 = await plink('socks5', 'nope.example', 'echo ok');
    assert.equal(r5.code, 1);
    assert.equal(r5.stdout.length, 0);
    assert.equal(r5.stderr, 'FATAL ERROR: Proxy error: SOCKS proxy failed to connect, error 2 (connection not allowed by ruleset)\n');
    const r4 = await plink('socks4a', 'nope.example', 'echo ok');
    assert.equal(r4.code, 1);
    assert.equal(r4.stderr, 'FATAL ERROR: Proxy error: SOCKS server reported failure to connect\n');
    await waitForOutput(proxy, new RegExp(`refused nope\\.example:${sshd.port} from 127\\.0\\.0\\.1:\\d+: 403 .*no rule allows nope\\.example:${sshd.port}`));
  });

  await t.test("ssh through nc -X 5 and nc -X 4 (OpenBSD netcat's SOCKS modes)", async () => {
    for (const [version, host] of [
      ['5', 'localhost'],
      ['4', '127.0.0.1'],
    ]) {
      const r = await runSsh([...sshArgs(sshd, { host, proxyCommand: `nc -X ${version} -x 127.0.0.1:${proxy.port} %h %p` }), 'echo ok'], { timeoutMs: 30_000 });
      assert.equal(r.code, 0, `ssh via nc -X ${version} failed: ${r.stderr}\n${logs()}`);
      assert.equal(r.stdout.toString(), 'ok\n');
    }
  });
});
