// A PAC script chooses the way to the endpoint, with real programs: the script
// served over HTTP on loopback, two squids as the corporate proxies, OpenSSH's
// ssh running `wssh client --pac` (and `wssh connect --pac` under `nc -X
// connect`) to a real sshd. The script sends the endpoint `localhost` through
// the first squid (then the second, then DIRECT) and every other host
// DIRECT; with the first squid stopped, the second one carries the tunnel.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { requirePrograms } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { startSquid } from '../fixtures/squid';
import { runProgram } from '../../scripts/harness/processes';
import { waitFor } from '../fixtures/tunnel';
import { WSSH_CLI, spawnWsshConnect, spawnWsshServer, writeHosts, cleanEnv } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';

async function servePac(script: () => string): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    if (req.url === '/proxy.pac') {
      res.writeHead(200, { 'content-type': 'application/x-ns-proxy-autoconfig' });
      res.end(script());
    } else {
      res.writeHead(404).end('not here');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests: () => requests, close: () => new Promise((r) => server.close(() => r())) };
}

test('--pac: the PAC script chooses the proxy per endpoint, and the next one when the first is down', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'squid', 'nc');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-pac-');
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const server = await spawnWsshServer(writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\n"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"\n`));
  t.after(() => server.stop());
  const first = await startSquid({ schemes: [] });
  t.after(() => first.stop());
  const second = await startSquid({ schemes: [] });
  t.after(() => second.stop());
  const pac = await servePac(
    () => `function FindProxyForURL(url, host) {
      if (dnsDomainIs(host, "localhost")) return "PROXY 127.0.0.1:${first.port}; PROXY 127.0.0.1:${second.port}; DIRECT";
      return "DIRECT";
    }`,
  );
  t.after(() => pac.close());
  const pacUrl = `${pac.url}/proxy.pac`;
  const viaProxies = `ws://localhost:${server.port}/ssh`;
  const direct = `ws://127.0.0.1:${server.port}/ssh`;
  const env = cleanEnv();
  const logs = () => `--- squid 1:\n${first.log()}\n--- squid 2:\n${second.log()}\n--- server:\n${server.output()}`;
  const ssh = (endpoint: string, flags: string) =>
    runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: `${process.execPath} ${WSSH_CLI} client ${endpoint}/%h ${flags}` }), 'echo ok'], {
      env,
      timeoutMs: 60_000,
    });
  const target = `localhost:${server.port}`;

  await t.test('the endpoint the script names goes through the first squid', async () => {
    const r = await ssh(viaProxies, `--pac ${pacUrl}`);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    // squid writes a CONNECT's line when the tunnel closes.
    await waitFor('the first squid to log the CONNECT', () => first.connects().includes(target), 15_000, logs);
    assert.deepEqual(second.connects(), []);
  });

  await t.test('another host goes DIRECT: no squid sees it', async () => {
    const before = first.connects().length;
    const r = await ssh(direct, `--pac ${pacUrl}`);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.ok(server.output().includes('127.0.0.1'), server.output());
    assert.equal(first.connects().length, before, logs());
    assert.ok(![...first.connects(), ...second.connects()].some((c) => c.startsWith('127.0.0.1:')), logs());
  });

  await t.test('wssh connect --pac logs the routes and carries ssh through the first squid', async () => {
    const connect = await spawnWsshConnect(viaProxies, ['--pac', pacUrl]);
    t.after(() => connect.stop());
    const routes = new RegExp(
      `as the PAC file ${pacUrl.replace(/[.]/g, '\\.')} says: http://127\\.0\\.0\\.1:${first.port}, then http://127\\.0\\.0\\.1:${second.port}, then DIRECT`,
    );
    await waitFor(
      'the routes in the log',
      () => routes.test(connect.output()),
      10_000,
      () => connect.output(),
    );
    const before = first.connects().length;
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: `nc -X connect -x 127.0.0.1:${connect.port} %h %p` }), 'echo ok'], {
      env,
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${connect.output()}\n${logs()}`);
    await waitFor('the first squid to log the CONNECT', () => first.connects().length > before, 15_000, logs);
    await connect.stop();
  });

  await t.test('with the first squid stopped, the second one is used', async () => {
    await first.stop();
    const r = await ssh(viaProxies, `--pac ${pacUrl}`);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.match(
      r.stderr,
      new RegExp(
        `connection refused by the HTTP proxy at http://127\\.0\\.0\\.1:${first.port}.*; trying the next proxy, http://127\\.0\\.0\\.1:${second.port}`,
      ),
    );
    await waitFor('the second squid to log the CONNECT', () => second.connects().includes(target), 15_000, logs);
  });

  await t.test('a PAC URL that is not there, and a broken script, are said as that', async () => {
    const missing = await runProgram(process.execPath, [WSSH_CLI, 'client', `${viaProxies}/localhost`, '--pac', `${pac.url}/nothing.pac`], { env });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `wssh: --pac: cannot fetch the PAC file ${pac.url}/nothing.pac: 404 Not Found\n`);
    const broken = path.join(dir, 'broken.pac');
    fs.writeFileSync(broken, 'function FindProxyForURL(url, host) { return "DIRECT" \n');
    const r = await runProgram(process.execPath, [WSSH_CLI, 'connect', viaProxies, '--listen', '127.0.0.1:0', '--pac', broken], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^wssh: --pac: the PAC file ${broken.replace(/[.]/g, '\\.')} is broken: .*Unexpected end of input\\n$`));
    const both = await runProgram(process.execPath, [WSSH_CLI, 'client', `${viaProxies}/localhost`, '--pac', broken, '--no-proxy'], { env });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--pac and --proxy\/--no-proxy: give one of them/);
  });
});
