// Client certificates against a real gateway: nginx with `ssl_verify_client
// on` and a client CA the test makes with openssl, OpenSSH's ssh running
// `wssh client` as its ProxyCommand to a real sshd. With the certificate
// (PEM pair, or PKCS#12 with its passphrase from WSSH_PFX_PASSPHRASE) ssh
// runs; without one, or with one from another CA, the message says exactly
// that; a wrong passphrase is said at start.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { requirePrograms, which } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { makeCertificates, makeClientCertificate } from '../../scripts/harness/tls';
import { startNginx } from '../../scripts/harness/nginx';
import { runProgram, killOnExit } from '../../scripts/harness/processes';
import { WSSH_CLI, spawnWsshConnect, spawnWsshServer, writeHosts, cleanEnv } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';
import { spawn } from 'node:child_process';

test('client certificates against nginx with ssl_verify_client on', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nginx', 'openssl', 'nc');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-clientcert-');
  const certs = await makeCertificates(dir);
  const mine = await makeClientCertificate(dir, 'corp', 'pfx-secret');
  const stranger = await makeClientCertificate(dir, 'other', 'x');

  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const server = await spawnWsshServer(writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\n"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"\n`));
  t.after(() => server.stop());
  const nginx = await startNginx({
    upstreamPort: server.port,
    tls: { cert: certs.serverCert, key: certs.serverKey },
    extra: `ssl_verify_client on;\nssl_client_certificate ${mine.ca};\nssl_verify_depth 2;`,
  });
  t.after(() => nginx.stop());
  const endpoint = nginx.url;
  const logs = () => `--- nginx:\n${nginx.log()}\n--- server:\n${server.output()}`;
  const ssh = (flags: string, env = cleanEnv()) =>
    runSsh(
      [...sshArgs(sshd, { host: 'localhost', proxyCommand: `${process.execPath} ${WSSH_CLI} client ${endpoint}/%h --ca ${certs.caCert} ${flags}` }), 'echo ok'],
      { env, timeoutMs: 60_000 },
    );
  const client = (args: string[], env = cleanEnv()) =>
    runProgram(process.execPath, [WSSH_CLI, 'client', `${endpoint}/localhost`, '--ca', certs.caCert, ...args], { env, timeoutMs: 30_000 });

  await t.test('with the certificate and key (PEM), ssh runs', async () => {
    const r = await ssh(`--cert ${mine.cert} --key ${mine.key}`);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
  });

  await t.test('with the PKCS#12 file and WSSH_PFX_PASSPHRASE, ssh runs', async () => {
    const r = await ssh(`--pfx ${mine.pfx}`, cleanEnv({ WSSH_PFX_PASSPHRASE: 'pfx-secret' }));
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
  });

  await t.test('wssh connect --cert/--key carries ssh too', async () => {
    const connect = await spawnWsshConnect(endpoint, ['--ca', certs.caCert, '--cert', mine.cert, '--key', mine.key]);
    t.after(() => connect.stop());
    await waitFor(
      'the certificate line',
      () => connect.output().includes(`presenting the client certificate ${mine.cert}`),
      10_000,
      () => connect.output(),
    );
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: `nc -X connect -x 127.0.0.1:${connect.port} %h %p` }), 'echo ok'], {
      env: cleanEnv(),
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${connect.output()}\n${logs()}`);
    await connect.stop();
  });

  await t.test('the PKCS#12 passphrase asked on a terminal (a pty from script(1)), then ssh runs through wssh connect', async (st) => {
    const script = which('script');
    if (!script) return st.skip('script not found: apt-get install util-linux');
    const command = [process.execPath, WSSH_CLI, 'connect', endpoint, '--listen', '127.0.0.1:0', '--ca', certs.caCert, '--pfx', mine.pfx].join(' ');
    const child = spawn(script, ['-qfec', command, '/dev/null'], { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    killOnExit(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    st.after(async () => {
      child.kill('SIGTERM');
      await exited;
    });
    await waitFor(
      'the passphrase prompt',
      () => out.includes(`passphrase for ${mine.pfx}: `),
      15_000,
      () => out,
    );
    child.stdin.write('pfx-secret\r');
    const port = Number(
      (
        await waitFor(
          'the listen line',
          () => /CONNECT proxy on 127\.0\.0\.1:(\d+) /.exec(out),
          15_000,
          () => out,
        )
      )[1],
    );
    await waitFor(
      'the certificate line',
      () => out.includes(`presenting the client certificate ${mine.pfx}`),
      10_000,
      () => out,
    );
    assert.ok(!out.includes('pfx-secret'), 'the passphrase is not echoed');
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: `nc -X connect -x 127.0.0.1:${port} %h %p` }), 'echo ok'], {
      env: cleanEnv(),
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${out}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
  });

  await t.test('without a certificate: the gateway requires one, and the message says so', async () => {
    const r = await client([]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `wssh: TLS: ${endpoint} requires a client certificate and none was given (400 No required SSL certificate was sent): ` +
        'give the endpoint a client certificate the gateway accepts (--cert FILE --key FILE, or --pfx FILE)\n',
    );
  });

  await t.test('with a certificate from another CA: refused, and the message says so', async () => {
    const r = await client(['--cert', stranger.cert, '--key', stranger.key]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^wssh: TLS: ${endpoint.replace(/[.]/g, '\\.')} refused the client certificate ${stranger.cert.replace(/[.]/g, '\\.')} \\(400 The SSL certificate error: not issued by a CA it trusts, expired or revoked\\)`,
      ),
    );
  });

  await t.test('a wrong passphrase, a key of another certificate, a missing --key: said at start', async () => {
    const wrong = await client(['--pfx', mine.pfx], cleanEnv({ WSSH_PFX_PASSPHRASE: 'nope' }));
    assert.equal(wrong.code, 2);
    assert.equal(wrong.stderr, `wssh: --pfx: the passphrase of ${mine.pfx} is wrong\n`);
    const none = await client(['--pfx', mine.pfx]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /is protected by a passphrase: give it .*\(set WSSH_PFX_PASSPHRASE: stdin is not a terminal\)\n$/);
    const mismatch = await client(['--cert', mine.cert, '--key', stranger.key]);
    assert.equal(mismatch.code, 2);
    assert.equal(mismatch.stderr, `wssh: --cert: the key in ${mine.cert} does not belong to its certificate\n`);
    const half = await client(['--cert', mine.cert]);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /--cert needs --key/);
    const plain = await runProgram(
      process.execPath,
      [WSSH_CLI, 'client', `ws://127.0.0.1:${server.port}/ssh/localhost`, '--cert', mine.cert, '--key', mine.key],
      { env: cleanEnv() },
    );
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /only for wss:\/\/ endpoints/);
  });
});
