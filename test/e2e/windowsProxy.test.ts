// `--proxy system` on Windows for real, as far as a Linux machine goes: the
// project's build on Windows Node under wine, the user's Internet Settings
// written into the prefix's registry with `wine reg add` (read back by the
// code with wine's own reg.exe), a real squid as the corporate proxy, and
// OpenSSH's ssh to a real sshd through `wssh connect` on Windows:
//
//   ssh ─nc -X connect─▶ wssh connect --proxy system (Windows) ─▶ squid ─▶ wssh server ─▶ sshd
//
// The manual proxy in its per-scheme form, ProxyOverride with `<local>` and a
// wildcard, and AutoConfigURL through the PAC path.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { requirePrograms } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { startSquid } from '../fixtures/squid';
import { spawnWsshServer, writeHosts, cleanEnv } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';
import { startWine } from '../fixtures/wine';
import { wineReg } from '../fixtures/wineReg';

const KEY = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';
const CONNECT_READY = /CONNECT proxy on [^\s]*:(\d+) /;

test('--proxy system on Windows Node reads the Internet Settings', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'squid', 'nc');
  if (!programs) return;
  const win = await startWine(t);
  if (!win) return;
  t.after(() => win.shutdown());
  const dir = tempDir(t, 'wssh-e2e-winproxy-');
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const hosts = [`localhost: "127.0.0.1:${sshd.port}"`, `"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"`].join('\n');
  const server = await spawnWsshServer(writeHosts(dir, hosts + '\n'));
  t.after(() => server.stop());
  const squid = await startSquid({ schemes: [] });
  t.after(() => squid.stop());
  const pacServer = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ns-proxy-autoconfig' });
    res.end(`function FindProxyForURL(url, host) { return "PROXY 127.0.0.1:1; PROXY 127.0.0.1:${squid.port}; DIRECT"; }`);
  });
  await new Promise<void>((resolve) => pacServer.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => pacServer.close(() => resolve())));
  const pacUrl = `http://127.0.0.1:${(pacServer.address() as AddressInfo).port}/corp.pac`;

  const reg = async (...args: string[]) => {
    const r = await wineReg(win, [...args, '/f']);
    assert.equal(r.code, 0, `wine reg ${args.join(' ')}: ${r.output}`);
  };
  const logs = () => `--- squid:\n${squid.log()}\n--- server:\n${server.output()}`;
  const sshThrough = (port: number) =>
    runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: `nc -X connect -x 127.0.0.1:${port} %h %p` }), 'echo ok'], {
      env: cleanEnv(),
      timeoutMs: 120_000,
    });
  const connect = async (endpoint: string) => {
    const proc = await win.startWssh(['connect', endpoint, '--listen', '127.0.0.1:0', '--proxy', 'system'], CONNECT_READY, 120_000);
    t.after(() => proc.stop());
    await waitFor(
      'the reaching line',
      () => /reaching .* by /.test(proc.stderr()),
      30_000,
      () => proc.output(),
    );
    return proc;
  };

  await t.test('the manual per-scheme proxy (http=…;socks=…) carries a ws:// endpoint', async () => {
    await reg('add', KEY, '/v', 'ProxyEnable', '/t', 'REG_DWORD', '/d', '1');
    await reg('add', KEY, '/v', 'ProxyServer', '/t', 'REG_SZ', '/d', `http=127.0.0.1:${squid.port};socks=127.0.0.1:1`);
    await reg('add', KEY, '/v', 'ProxyOverride', '/t', 'REG_SZ', '/d', '<local>;*.example.test');
    const proc = await connect(`ws://127.0.0.1:${server.port}/ssh`);
    assert.match(
      proc.stderr(),
      new RegExp(
        `the Windows proxy settings say the proxy http=127\\.0\\.0\\.1:${squid.port};socks=127\\.0\\.0\\.1:1 \\(not for <local>;\\*\\.example\\.test\\): reaching ws://127\\.0\\.0\\.1:${server.port}/ssh by http://127\\.0\\.0\\.1:${squid.port}\\n`,
      ),
    );
    const r = await sshThrough(proc.port);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${proc.output()}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    await waitFor('squid to log the CONNECT', () => squid.connects().includes(`127.0.0.1:${server.port}`), 15_000, logs);
    await proc.stop();
  });

  await t.test('ProxyOverride <local> sends a dotless host directly', async () => {
    const before = squid.connects().length;
    const proc = await connect(`ws://localhost:${server.port}/ssh`);
    assert.match(proc.stderr(), new RegExp(`reaching ws://localhost:${server.port}/ssh by DIRECT\\n`));
    const r = await sshThrough(proc.port);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${proc.output()}\n${logs()}`);
    assert.equal(squid.connects().length, before);
    await proc.stop();
  });

  await t.test('AutoConfigURL: the PAC script decides, and its unreachable first proxy is skipped', async () => {
    await reg('add', KEY, '/v', 'AutoConfigURL', '/t', 'REG_SZ', '/d', pacUrl);
    const before = squid.connects().length;
    const proc = await connect(`ws://localhost:${server.port}/ssh`);
    assert.match(
      proc.stderr(),
      new RegExp(
        `the Windows proxy settings say the PAC script ${pacUrl.replace(/[.]/g, '\\.')}, else the proxy .*: reaching ws://localhost:${server.port}/ssh by http://127\\.0\\.0\\.1:1, then http://127\\.0\\.0\\.1:${squid.port}, then DIRECT\\n`,
      ),
    );
    const r = await sshThrough(proc.port);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${proc.output()}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    await waitFor('squid to log the CONNECT', () => squid.connects().length > before, 15_000, logs);
    const fallback = new RegExp(
      `connection refused by the HTTP proxy at http://127\\.0\\.0\\.1:1.*; trying the next proxy, http://127\\.0\\.0\\.1:${squid.port}`,
    );
    await waitFor(
      'the fallback line',
      () => fallback.test(proc.stderr()),
      10_000,
      () => proc.output(),
    );
    await proc.stop();
  });
});
