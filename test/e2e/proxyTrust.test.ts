// Trust per endpoint with real programs: nginx serving certificates made by
// openssl (CA-signed, expired, for another name, self-signed), OpenSSH's ssh
// running `wssh client` as its ProxyCommand, and tinyproxy on the way for the
// pin: each certificate problem is one line saying what it is, a pin is
// checked on top of the usual checks or, with --pin-only, instead of issuer
// and name, --servername overrides the name, and --system-ca reads the
// operating system's store (pointed at the test CA with SSL_CERT_FILE).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requirePrograms } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { fingerprintOf, makeCertificates, makeSelfSigned, makeServerCertificate } from '../../scripts/harness/tls';
import { startNginx } from '../../scripts/harness/nginx';
import { startTinyproxy } from '../fixtures/tinyproxy';
import { runProgram, waitForOutput } from '../../scripts/harness/processes';
import { WSSH_CLI, spawnWsshConnect, spawnWsshServer, writeHosts, cleanEnv } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test('trust per endpoint, against nginx', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nginx', 'openssl', 'tinyproxy');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-trust-');
  const certs = await makeCertificates(dir);
  const expiredCert = await makeServerCertificate(dir, 'expired', certs, { expired: true });
  const otherCert = await makeServerCertificate(dir, 'other', certs, { altNames: ['DNS:gw.example.test'] });
  const selfCert = await makeSelfSigned(dir, 'self');

  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const server = await spawnWsshServer(writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\n`));
  t.after(() => server.stop());
  const nginxWith = async (tls: { cert: string; key: string }) => {
    const nginx = await startNginx({ upstreamPort: server.port, tls });
    t.after(() => nginx.stop());
    return nginx;
  };
  const good = await nginxWith({ cert: certs.serverCert, key: certs.serverKey });
  const expired = await nginxWith(expiredCert);
  const other = await nginxWith(otherCert);
  const self = await nginxWith(selfCert);
  const proxy = await startTinyproxy({ connectPorts: [good.port, self.port] });
  t.after(() => proxy.stop());
  const pins = { good: fingerprintOf(certs.serverCert), other: fingerprintOf(otherCert.cert), self: fingerprintOf(selfCert.cert) };

  const ssh = (endpoint: string, flags: string, env = cleanEnv()) =>
    runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: `${process.execPath} ${WSSH_CLI} client ${endpoint}/%h ${flags}` }), 'echo ok'], {
      env,
      timeoutMs: 30_000,
    });
  const client = (endpoint: string, args: string[], env = cleanEnv()) =>
    runProgram(process.execPath, [WSSH_CLI, 'client', `${endpoint}/localhost`, ...args], { env, timeoutMs: 30_000 });
  const ok = (r: { code: number | null; stdout: Buffer; stderr: string }) => {
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}`);
    assert.equal(r.stdout.toString(), 'ok\n');
  };
  const oneLine = (r: { code: number | null; stdout: Buffer; stderr: string }, line: RegExp) => {
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr, /^wssh: [^\n]+\n$/);
    assert.match(r.stderr, line);
  };

  await t.test("--pin with the right fingerprint (base64 or openssl's hex) works, through tinyproxy too", async () => {
    ok(await ssh(good.url, `--ca ${certs.caCert} --pin ${pins.good.base64}`));
    ok(await ssh(good.url, `--ca ${certs.caCert} --pin ${pins.good.hex} --proxy ${proxy.url}`));
    assert.ok(proxy.connects().includes(`localhost:${good.port}`));
  });

  await t.test('--pin with another fingerprint: "does not match the pin", naming the one the server has', async () => {
    oneLine(
      await client(good.url, ['--ca', certs.caCert, '--pin', pins.other.base64, '--proxy', proxy.url]),
      new RegExp(
        `^wssh: TLS: the certificate of ${escape(good.url)} does not match the pin: ` +
          `the certificate's fingerprint is ${escape(pins.good.base64)}, not the pinned ${escape(pins.other.base64)}$`,
        'm',
      ),
    );
  });

  await t.test('an expired certificate: "has expired"', async () => {
    oneLine(await client(expired.url, ['--ca', certs.caCert]), new RegExp(`^wssh: TLS: the certificate of ${escape(expired.url)} has expired$`, 'm'));
  });

  await t.test('a certificate for another name: "does not match the host name"; --servername with its name works', async () => {
    oneLine(
      await client(other.url, ['--ca', certs.caCert]),
      new RegExp(
        `^wssh: TLS: the certificate does not match the host name of ${escape(other.url)} ` +
          `\\(Host: localhost\\. is not in the cert's altnames: DNS:gw\\.example\\.test\\)$`,
        'm',
      ),
    );
    ok(await ssh(other.url, `--ca ${certs.caCert} --servername gw.example.test`));
    ok(await ssh(other.url.replace('//localhost:', '//127.0.0.1:'), `--ca ${certs.caCert} --servername gw.example.test`));
  });

  await t.test('a self-signed certificate: "unknown issuer"; --pin-only with its pin works (and through tinyproxy), another pin does not', async () => {
    oneLine(
      await client(self.url, []),
      /^wssh: TLS: the certificate of wss:\/\/localhost:\d+\/ssh is from an unknown issuer \(DEPTH_ZERO_SELF_SIGNED_CERT\); trust its CA$/m,
    );
    oneLine(await client(self.url, ['--pin', pins.self.base64]), /unknown issuer/); // a pin alone adds a check, it does not replace one
    ok(await ssh(self.url, `--pin ${pins.self.base64} --pin-only`));
    ok(await ssh(self.url, `--pin ${pins.self.base64} --pin-only --proxy ${proxy.url}`));
    oneLine(await client(self.url, ['--pin', pins.good.base64, '--pin-only']), /does not match the pin: the certificate's fingerprint is sha256\//);
  });

  await t.test("--system-ca trusts the operating system's store (here SSL_CERT_FILE, pointing at the test CA)", async () => {
    const emptyDir = fs.mkdtempSync(path.join(dir, 'certs-'));
    const env = cleanEnv({ SSL_CERT_FILE: certs.caCert, SSL_CERT_DIR: emptyDir });
    oneLine(await client(good.url, [], env), /unknown issuer/);
    ok(await ssh(good.url, '--system-ca', env));
  });

  await t.test('wssh connect --pin-only says so in its log; TLS flags on a ws:// endpoint and malformed pins are usage errors', async (st) => {
    const local = await spawnWsshConnect(self.url, ['--pin', pins.self.base64, '--pin-only']);
    st.after(() => local.stop());
    await waitForOutput(
      local,
      /TLS: trusting only the pinned certificate for wss:\/\/localhost:\d+\/ssh \(--pin-only: its issuer and name are not checked, its dates are\)/,
    );
    const usage = async (args: string[], message: RegExp) => {
      const r = await runProgram(process.execPath, [WSSH_CLI, ...args], { env: cleanEnv(), timeoutMs: 15_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^wssh: [^\n]+\n$/);
      assert.match(r.stderr, message);
    };
    await usage(['client', 'ws://gw/ssh/h', '--pin', pins.good.base64], /^wssh: --pin: only for wss:\/\/ endpoints \(ws:\/\/gw\/ssh has no TLS\)$/m);
    await usage(['connect', 'ws://gw/ssh', '--servername', 'gw', '--system-ca'], /^wssh: --system-ca, --servername: only for wss:\/\/ endpoints/m);
    await usage(['client', 'wss://gw/ssh/h', '--pin', 'sha256/AAAA'], /^wssh: --pin "sha256\/AAAA": a sha256 fingerprint has 32 bytes, this one 3$/m);
    await usage(['client', 'wss://gw/ssh/h', '--pin-only'], /^wssh: --pin-only needs --pin: /m);
    await usage(['connect', 'wss://gw/ssh', '--servername', '10.0.0.1'], /^wssh: --servername "10\.0\.0\.1": expected a DNS name/m);
    await usage(['client', 'wss://gw/ssh/h', '--ca', sshd.userKey], /^wssh: --ca ".*": no PEM certificate in it$/m);
  });
});
