// `wssh doctor` against real components, each hop broken on purpose, and the
// doctor naming that hop and its cause: a real sshd behind `wssh server`
// (one open, one asking for a secret, one with no keepalive behind an nginx
// that cuts idle connections after 3 s), nginx passing an Origin header on,
// an original-style server (no WSSH-Server mark), a PAC script served over
// HTTP naming a dead proxy then DIRECT. And the path that works: every step
// passes, exit code 0. (The proxies' sign-in: doctorProxyAuth.test.ts; TLS:
// tls/doctor.test.ts.)

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { requirePrograms } from '../../scripts/harness/programs';
import { freePort } from '../../scripts/harness/ports';
import { startNginx } from '../../scripts/harness/nginx';
import { startSshd } from '../fixtures/sshd';
import { startOldServer } from '../fixtures/oldServer';
import { cleanEnv, runWssh, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { doctor, expectBrokenAt, expectStep, expectWorks } from '../fixtures/doctor';
import { formatUserLine, hashSecret } from '../../server/auth/credentials';

const SECRET = 'doctor-s3cret';

test('wssh doctor names the broken hop', async (t) => {
  if (!requirePrograms(t, 'sshd', 'nginx')) return;
  const dir = tempDir(t, 'wssh-e2e-doctor-');
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const closedPort = await freePort();
  const hosts = writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\nsshd-down: "127.0.0.1:${closedPort}"\n`);
  const server = await spawnWsshServer(hosts);
  t.after(() => server.stop());
  const endpoint = `ws://127.0.0.1:${server.port}/ssh`;

  await t.test('the path that works: every step passes, exit code 0', async () => {
    const run = await doctor([endpoint, 'localhost', '--no-proxy']);
    expectWorks(run);
    expectStep(run, 'route', 'pass', { answer: /--no-proxy: DIRECT/ });
    expectStep(run, 'dns', 'skip', { answer: /127\.0\.0\.1 is an address/ });
    expectStep(run, 'tcp', 'pass', { answer: /^connected$/ });
    expectStep(run, 'upgrade', 'pass', { answer: /^101 Switching Protocols; WSSH-Server: 2$/ });
    expectStep(run, 'target', 'pass', { answer: /^allowed; "SSH-2\.0-OpenSSH_[^"]+" after \d+ ms$/ });
    assert.deepEqual(
      run.diagnosis.steps.map((s) => s.step),
      ['route', 'dns', 'tcp', 'upgrade', 'target'],
    );

    // As a person reads it: one line per step, then the verdict.
    const text = await runWssh(['doctor', endpoint, 'localhost', '--no-proxy'], { env: cleanEnv() });
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.toString().trimEnd().split('\n');
    assert.equal(lines[0], `checking the path to localhost through ${endpoint}`);
    assert.match(lines[1], /^ok {4}route {4} +\d+ ms {2}the way to ws:\/\/127\.0\.0\.1:\d+\/ssh: --no-proxy: DIRECT$/);
    assert.match(lines[5], /^ok {4}target {3} +\d+ ms {2}localhost through the WSSH server: allowed; "SSH-2\.0-OpenSSH/);
    assert.match(lines[6], /^the path works \(\d+ ms\)$/);
  });

  await t.test('no DNS answer for the gateway', async () => {
    const port = await freePort();
    const run = await doctor([`ws://wssh-doctor-test.invalid:${port}/ssh`, 'localhost', '--no-proxy']);
    expectBrokenAt(run, 'dns');
    expectStep(run, 'dns', 'fail', {
      answer: /(no address for wssh-doctor-test\.invalid \(ENOTFOUND\)|no answer from the DNS server \(EAI_AGAIN\))/,
      fix: /check the host in the endpoint's URI/,
    });
    expectStep(run, 'target', 'skip', { answer: /not reached/ });
  });

  await t.test('a closed port', async () => {
    const run = await doctor([`ws://127.0.0.1:${closedPort}/ssh`, 'localhost', '--no-proxy']);
    expectBrokenAt(run, 'tcp');
    expectStep(run, 'tcp', 'fail', { answer: /^connection refused$/, cause: new RegExp(`nothing listens on 127\\.0\\.0\\.1:${closedPort}`) });
  });

  await t.test("a host the server's policy denies: the target step names hosts.yml", async () => {
    const run = await doctor([endpoint, 'db1.lan', '--no-proxy']);
    expectBrokenAt(run, 'target');
    expectStep(run, 'upgrade', 'pass', { answer: /403 Forbidden: the WSSH server answered, refusing the target/ });
    expectStep(run, 'target', 'fail', { answer: /refusal denied/, cause: /^the gateway's hosts\.yml does not allow db1\.lan$/ });
  });

  await t.test('sshd down behind the server', async () => {
    const run = await doctor([endpoint, 'sshd-down', '--no-proxy']);
    expectBrokenAt(run, 'target');
    expectStep(run, 'target', 'fail', { answer: /502 Bad Gateway \(refusal unreachable\): connection refused/, cause: /no SSH server listens on sshd-down/ });
  });

  await t.test('no host given: the path up to the server is checked, the stand-in target is no failure', async () => {
    const run = await doctor([endpoint, '--no-proxy']);
    assert.equal(run.code, 0, run.shown);
    expectStep(run, 'upgrade', 'pass');
  });

  await t.test('the upgrade refused: the server wants a password, and the one given is wrong', async (st) => {
    const users = path.join(dir, 'users.yml');
    fs.writeFileSync(users, formatUserLine('alice', await hashSecret(SECRET, { N: 1024 })) + '\n');
    const authServer = await spawnWsshServer(hosts, ['--users', users]);
    st.after(() => authServer.stop());
    const missing = await doctor([`ws://127.0.0.1:${authServer.port}/ssh`, 'localhost', '--no-proxy']);
    expectBrokenAt(missing, 'upgrade');
    expectStep(missing, 'upgrade', 'fail', {
      answer: /^401 Unauthorized \(refusal unauthorized\)$/,
      cause: /asks for a user and secret, and none was given/,
      fix: /wss:\/\/USER:SECRET@host/,
    });
    const wrong = await doctor([`ws://alice:wrong-${SECRET}@127.0.0.1:${authServer.port}/ssh`, 'localhost', '--no-proxy']);
    expectStep(wrong, 'upgrade', 'fail', { cause: /refused the credentials of "alice"/ });
    assert.ok(!JSON.stringify(wrong.diagnosis).includes(SECRET) && !wrong.stderr.includes(SECRET), 'the secret given is never printed');
    const right = await doctor([`ws://alice:${SECRET}@127.0.0.1:${authServer.port}/ssh`, 'localhost', '--no-proxy']);
    expectWorks(right);
    assert.ok(!JSON.stringify(right.diagnosis).includes(SECRET) && !right.stderr.includes(SECRET), 'the secret given is never printed');
  });

  await t.test('the upgrade refused for its Origin: nginx adds one in front of the server', async (st) => {
    const nginx = await startNginx({
      upstreamPort: server.port,
      extra: `location /portal/ {
      proxy_pass http://127.0.0.1:${server.port};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Origin "https://portal.example.com";
    }`,
    });
    st.after(() => nginx.stop());
    const run = await doctor([`ws://localhost:${nginx.port}/portal`, 'localhost', '--no-proxy']);
    expectBrokenAt(run, 'upgrade');
    expectStep(run, 'dns', 'pass', { answer: /^localhost → (127\.0\.0\.1|::1)$/ });
    expectStep(run, 'upgrade', 'fail', { answer: /^403 Forbidden \(refusal origin\)$/, cause: /Origin header .* something between/, fix: /--allow-origin/ });
    // The same nginx's own location works.
    expectWorks(await doctor([nginx.url, 'localhost', '--no-proxy']));
  });

  await t.test('an old wssh server (no WSSH-Server mark): a warning, and its refusal read from the first frame', async (st) => {
    const old = await startOldServer({ localhost: sshd.port }, closedPort);
    st.after(() => old.close());
    const oldEndpoint = `ws://127.0.0.1:${old.port}/ssh`;
    const works = await doctor([oldEndpoint, 'localhost', '--no-proxy']);
    expectWorks(works, ['upgrade']);
    expectStep(works, 'upgrade', 'warn', { answer: /with no WSSH-Server mark/, cause: /an original \(or old\) wssh server/ });
    expectStep(works, 'target', 'pass', { answer: /SSH-2\.0-OpenSSH/ });
    const denied = await doctor([oldEndpoint, 'denied-host', '--no-proxy']);
    expectBrokenAt(denied, 'target');
    expectStep(denied, 'target', 'fail', { answer: /Oops:Error: Invalid host/, cause: /hosts\.yml does not allow denied-host/ });
  });

  await t.test('a PAC script naming a dead proxy, then DIRECT: the dead one is a warning, the path works', async (st) => {
    const deadProxy = await freePort();
    const pac = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ns-proxy-autoconfig' });
      res.end(`function FindProxyForURL(url, host) { return "PROXY 127.0.0.1:${deadProxy}; DIRECT"; }`);
    });
    await new Promise<void>((resolve) => pac.listen(0, '127.0.0.1', resolve));
    st.after(() => new Promise<void>((resolve) => pac.close(() => resolve())));
    const pacUrl = `http://127.0.0.1:${(pac.address() as AddressInfo).port}/proxy.pac`;
    const run = await doctor([endpoint, 'localhost', '--pac', pacUrl]);
    expectWorks(run, ['tcp']);
    expectStep(run, 'route', 'pass', {
      answer: new RegExp(`the PAC file ${pacUrl.replace(/[./]/g, '\\$&')}: http://127\\.0\\.0\\.1:${deadProxy}, then DIRECT`),
    });
    const tcp = run.diagnosis.steps.filter((s) => s.step === 'tcp');
    assert.equal(tcp.length, 2, run.shown);
    assert.equal(tcp[0].verdict, 'warn', run.shown);
    assert.match(tcp[0].tried, new RegExp(`^TCP to 127\\.0\\.0\\.1:${deadProxy} \\(the HTTP proxy\\)$`));
    assert.match(tcp[0].answer, new RegExp(`connection refused; http://127\\.0\\.0\\.1:${deadProxy} skipped, trying DIRECT`));
    assert.match(tcp[0].cause ?? '', /no proxy listens/);
    assert.equal(tcp[1].verdict, 'pass', run.shown);
    assert.match(tcp[1].tried, /\(the gateway\)$/);
  });

  await t.test('--idle: nginx cuts an idle tunnel after 3 s; the doctor says so and names the keepalive', async (st) => {
    const quiet = await spawnWsshServer(hosts, ['--keepalive', '0']);
    st.after(() => quiet.stop());
    const nginx = await startNginx({ upstreamPort: quiet.port, readTimeoutSeconds: 3 });
    st.after(() => nginx.stop());
    const run = await doctor([nginx.url, 'localhost', '--no-proxy', '--idle', '--idle-max', '60']);
    expectWorks(run, ['idle']);
    const idle = expectStep(run, 'idle', 'warn', {
      answer: /^closed after \d+ s \(WebSocket 1006\)$/,
      cause: /cuts a tunnel idle for about \d+ s/,
      fix: /keepalive of [12] s or less \(--keepalive SECONDS/,
    });
    const seconds = Number(/after (\d+) s/.exec(idle.answer)![1]);
    assert.ok(seconds >= 3 && seconds < 30, `cut after ${seconds} s, nginx's timeout is 3 s\n${run.shown}`);
  });
});
