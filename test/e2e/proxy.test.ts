// A corporate HTTP proxy between the client and its endpoint, for real:
// tinyproxy (with and without Basic authentication) in front of nginx with
// TLS, the WSSH server and sshd. OpenSSH's ssh runs `wssh client` as its
// ProxyCommand, and through `wssh connect`; the proxy comes from --proxy or
// from HTTPS_PROXY / HTTP_PROXY, NO_PROXY bypasses it, and each refusal of the
// proxy (407 without or with wrong credentials, 403 for a port it does not
// allow) is one clear line that never shows the password.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { requirePrograms } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { makeCertificates } from '../../scripts/harness/tls';
import { startNginx } from '../../scripts/harness/nginx';
import { startTinyproxy } from '../fixtures/tinyproxy';
import { runProgram, waitForOutput } from '../../scripts/harness/processes';
import { freePort } from '../../scripts/harness/ports';
import { WSSH_CLI, spawnWsshConnect, spawnWsshServer, writeHosts, cleanEnv } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';

test('through an HTTP proxy (tinyproxy)', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nginx', 'openssl', 'tinyproxy', 'nc');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-proxy-');
  const certs = await makeCertificates(dir);

  const sshd = await startSshd();
  t.after(() => sshd.stop());
  // `wssh client …/%h` asks for localhost (port 22), `nc -X connect` for localhost:PORT.
  const hostsFile = writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\n"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"\n`);
  const server = await spawnWsshServer(hostsFile);
  t.after(() => server.stop());
  const nginx = await startNginx({ upstreamPort: server.port, tls: { cert: certs.serverCert, key: certs.serverKey } });
  t.after(() => nginx.stop());
  // tinyproxy lets CONNECT reach only the ports it lists: nginx's (wss://) and the server's (ws://).
  const open = await startTinyproxy({ connectPorts: [nginx.port, server.port] });
  t.after(() => open.stop());
  const guarded = await startTinyproxy({ connectPorts: [nginx.port], auth: { user: 'alice', password: 's3cret' } });
  t.after(() => guarded.stop());
  const deadPort = await freePort(); // nothing listens there

  const wsshClient = (endpoint: string, flags: string) => `${process.execPath} ${WSSH_CLI} client ${endpoint}/%h ${flags}`;
  const ssh = (proxyCommand: string, env: NodeJS.ProcessEnv = cleanEnv()) =>
    runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand }), 'echo ok'], { env, timeoutMs: 30_000 });
  /** `wssh client` on its own, for the failures: they happen before any byte of SSH. */
  const client = (args: string[], env: NodeJS.ProcessEnv = cleanEnv()) =>
    runProgram(process.execPath, [WSSH_CLI, 'client', `${nginx.url}/localhost`, '--ca', certs.caCert, ...args], { env, timeoutMs: 30_000 });
  const logs = () =>
    `--- tinyproxy:\n${open.output()}\n--- tinyproxy (auth):\n${guarded.output()}\n--- nginx:\n${nginx.log()}\n--- wssh server:\n${server.output()}`;

  await t.test('ssh with wssh client --proxy: the tunnel goes through tinyproxy as CONNECT', async () => {
    const r = await ssh(wsshClient(nginx.url, `--ca ${certs.caCert} --proxy ${open.url}`));
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.deepEqual(open.connects(), [`localhost:${nginx.port}`]);
    await nginx.waitForAccess(/"GET \/ssh\/localhost HTTP\/1\.1" 101 /);
  });

  await t.test('the proxy from HTTPS_PROXY, with credentials: Basic auth accepted', async () => {
    const r = await ssh(wsshClient(nginx.url, `--ca ${certs.caCert}`), cleanEnv({ HTTPS_PROXY: guarded.url }));
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.deepEqual(guarded.connects(), [`localhost:${nginx.port}`]);
  });

  await t.test('an endpoint by address through the proxy: its certificate is checked against the address, not the proxy', async () => {
    const byAddress = nginx.url.replace('//localhost:', '//127.0.0.1:');
    const r = await ssh(wsshClient(byAddress, `--ca ${certs.caCert} --proxy ${open.url}`));
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.ok(open.connects().includes(`127.0.0.1:${nginx.port}`));
  });

  await t.test('ws:// through HTTP_PROXY: also a CONNECT tunnel', async () => {
    const plain = `ws://127.0.0.1:${server.port}/ssh`;
    const r = await ssh(wsshClient(plain, ''), cleanEnv({ HTTP_PROXY: open.url, HTTPS_PROXY: `http://127.0.0.1:${deadPort}` }));
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.ok(open.connects().includes(`127.0.0.1:${server.port}`), open.connects().join(' '));
  });

  await t.test('no credentials: "requires authentication (407)", exit code 1, nothing on stdout', async () => {
    const r = await client(['--proxy', guarded.bareUrl]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.length, 0);
    assert.equal(
      r.stderr,
      `wssh: the HTTP proxy at ${guarded.bareUrl} requires authentication (407 Proxy Authentication Required): give it as http://USER:PASSWORD@host:port\n`,
    );
  });

  await t.test('wrong credentials (tinyproxy answers those with 401): names the user, never the password', async () => {
    const r = await client([], cleanEnv({ HTTPS_PROXY: `http://alice:wrong-pw@127.0.0.1:${guarded.port}` }));
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `wssh: the HTTP proxy at http://alice:***@127.0.0.1:${guarded.port} refused the credentials of "alice" (401 Unauthorized): check the user and password\n`,
    );
    assert.doesNotMatch(r.stderr, /wrong-pw/);
  });

  await t.test("a port the proxy does not allow CONNECT to: its 403, said to be the proxy's", async () => {
    const r = await runProgram(process.execPath, [WSSH_CLI, 'client', `wss://localhost:${deadPort}/ssh/localhost`, '--proxy', open.url], {
      env: cleanEnv(),
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `wssh: the HTTP proxy at ${open.url} refused to connect to localhost:${deadPort} (403 Access violation): it may not allow CONNECT to that host or port\n`,
    );
  });

  await t.test('NO_PROXY names the endpoint: connects directly, the proxy in HTTPS_PROXY is not used', async () => {
    const dead = `http://127.0.0.1:${deadPort}`;
    const without = await client([], cleanEnv({ HTTPS_PROXY: dead }));
    assert.equal(without.code, 1);
    assert.equal(without.stderr, `wssh: connection refused by the HTTP proxy at ${dead}: is it running, and is the port right?\n`);
    const r = await ssh(wsshClient(nginx.url, `--ca ${certs.caCert}`), cleanEnv({ HTTPS_PROXY: dead, NO_PROXY: 'example.org,localhost' }));
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
  });

  await t.test('--no-proxy: connects directly whatever HTTPS_PROXY says; --proxy with --no-proxy is a usage error', async () => {
    const r = await ssh(wsshClient(nginx.url, `--ca ${certs.caCert} --no-proxy`), cleanEnv({ HTTPS_PROXY: `http://127.0.0.1:${deadPort}` }));
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    const both = await client(['--proxy', open.url, '--no-proxy']);
    assert.equal(both.code, 2);
    assert.equal(both.stderr, 'wssh: --proxy and --no-proxy: give one of them\n');
    const socks = await client(['--proxy', 'socks5://127.0.0.1:1080']);
    assert.equal(socks.code, 2);
    assert.match(socks.stderr, /^wssh: --proxy "socks5:\/\/127\.0\.0\.1:1080": only HTTP proxies/);
  });

  await t.test('wssh connect --proxy with credentials: ssh through nc -X connect, the whole chain; the log hides the password', async (st) => {
    const local = await spawnWsshConnect(nginx.url, ['--ca', certs.caCert, '--proxy', guarded.url]);
    st.after(() => local.stop());
    const before = guarded.connects().length;
    const r = await ssh(`nc -X connect -x 127.0.0.1:${local.port} %h %p`);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${local.output()}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.equal(guarded.connects().length, before + 1);
    await waitForOutput(
      local,
      new RegExp(
        `reaching ${nginx.url.replace(/[/.]/g, '\\$&')} through the HTTP proxy at http://alice:\\*\\*\\*@127\\.0\\.0\\.1:${guarded.port} \\(from --proxy\\)`,
      ),
    );
    assert.doesNotMatch(local.output(), /s3cret/);
  });

  await t.test("wssh connect with a proxy refusal: the local proxy answers 502 with the proxy's reason", async (st) => {
    const local = await spawnWsshConnect(nginx.url, ['--ca', certs.caCert]);
    st.after(() => local.stop());
    // No HTTPS_PROXY in this process's env for the fixture: check the direct line
    // (logged just after the line the fixture waits for: wait for it too).
    await waitFor(
      'the "reaching" line',
      () => /reaching wss:/.test(local.output()),
      10_000,
      () => local.output(),
    );
    await waitForOutput(local, /reaching wss:\/\/localhost:\d+\/ssh (directly|through the HTTP proxy)/);
    const refused = await spawnWsshConnect(nginx.url, ['--ca', certs.caCert, '--proxy', guarded.bareUrl]);
    st.after(() => refused.stop());
    const r = await ssh(`nc -X connect -x 127.0.0.1:${refused.port} %h %p`);
    assert.equal(r.code, 255);
    await waitForOutput(
      refused,
      /refused localhost:\d+ from 127\.0\.0\.1:\d+: 502 the HTTP proxy at http:\/\/127\.0\.0\.1:\d+ requires authentication \(407 Proxy Authentication Required\)/,
    );
  });
});
