// Endpoint profiles from the admin's command to a working ssh: `wssh profile
// create` (with --ca, with --pin-from-server against nginx with TLS), `wssh
// profile show`, then `wssh connect --profile` (ssh through nc -X connect) and
// `wssh client --profile` (ssh's ProxyCommand) to a real sshd behind the WSSH
// server and nginx; a profile's user sends the secret from WSSH_SECRET. And
// every bad input: one line saying what and where, exit code 2, no file.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requirePrograms } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { fingerprintOf, makeCertificates } from '../../scripts/harness/tls';
import { startNginx } from '../../scripts/harness/nginx';
import { runProgram, type RunResult, waitForOutput } from '../../scripts/harness/processes';
import { freePort } from '../../scripts/harness/ports';
import { WSSH_CLI, spawnWsshConnectWith, spawnWsshServer, writeHosts, cleanEnv, runWssh, usageError } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';

function wssh(args: string[], env = cleanEnv()): Promise<RunResult> {
  return runWssh(args, { env });
}

test('profiles: create, show, connect and client with ssh through nginx with TLS', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nc', 'nginx', 'openssl');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-profile-');
  const certs = await makeCertificates(dir);
  const sshd = await startSshd();
  t.after(() => sshd.stop());

  // Two WSSH servers: one open, one that asks for alice's secret.
  const hostsFile = writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\n`);
  const server = await spawnWsshServer(hostsFile);
  t.after(() => server.stop());
  const usersFile = path.join(dir, 'users.yml');
  const hashLine = await runProgram(process.execPath, [WSSH_CLI, 'server', '--hash-secret', 'alice'], { input: 'open sesame\n', env: cleanEnv() });
  assert.equal(hashLine.code, 0, hashLine.stderr);
  fs.writeFileSync(usersFile, hashLine.stdout);
  const authServer = await spawnWsshServer(hostsFile, ['--users', usersFile]);
  t.after(() => authServer.stop());

  const nginx = await startNginx({ upstreamPort: server.port, tls: { cert: certs.serverCert, key: certs.serverKey } });
  t.after(() => nginx.stop());
  const authNginx = await startNginx({ upstreamPort: authServer.port, tls: { cert: certs.serverCert, key: certs.serverKey } });
  t.after(() => authNginx.stop());
  const logs = () => `--- wssh server:\n${server.output()}\n--- nginx:\n${nginx.log()}`;
  const serverPin = fingerprintOf(certs.serverCert).base64;

  // Port 22 as PuTTY users ask for it: hosts.yml maps localhost:22 to the sshd.
  const viaNc = (port: number) => `nc -X connect -x 127.0.0.1:${port} %h 22`;
  const viaClient = (profile: string) => `${process.execPath} ${WSSH_CLI} client --profile ${profile} %h`;

  const caProfile = path.join(dir, 'office.wssh');
  await t.test('profile create --ca -o FILE writes the profile; show prints what it holds', async () => {
    const r = await wssh(['profile', 'create', nginx.url, '--name', 'Office gateway', '--ca', certs.caCert, '-o', caProfile]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, 0, 'with -o nothing on stdout');
    assert.equal(r.stderr, `wrote ${caProfile}: endpoint "Office gateway" (${nginx.url})\n`);
    const doc = JSON.parse(fs.readFileSync(caProfile, 'utf8'));
    assert.deepEqual(doc, {
      wsshProfile: 1,
      name: 'Office gateway',
      uri: nginx.url,
      proxy: 'system',
      trust: { ca: [fs.readFileSync(certs.caCert, 'utf8')], pins: [], pinOnly: false },
    });
    // Without -o the same document goes to stdout.
    const out = await wssh(['profile', 'create', nginx.url, '--name', 'Office gateway', '--ca', certs.caCert]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.toString(), fs.readFileSync(caProfile, 'utf8'));

    const show = await wssh(['profile', 'show', caProfile]);
    assert.equal(show.code, 0, show.stderr);
    const text = show.stdout.toString();
    assert.match(text, /^Name: +Office gateway$/m);
    assert.match(text, new RegExp(`^Endpoint: +${nginx.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
    assert.match(text, /^User: +\(none\)$/m);
    assert.match(text, /^Proxy: +system/m);
    assert.match(text, /^CA 1: +CN=WSSH test CA$/m);
    assert.match(text, /^ +issued by CN=WSSH test CA$/m);
    assert.match(text, /^ +valid .+ to .+$/m);
  });

  await t.test('wssh connect --profile: ssh through nc -X connect runs a command', async () => {
    const proxy = await spawnWsshConnectWith(['--profile', caProfile], cleanEnv());
    t.after(() => proxy.stop());
    await waitForOutput(proxy, /endpoint, TLS trust and proxy mode from the profile /);
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: viaNc(proxy.port) }), 'echo ok']);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${proxy.output()}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    await nginx.waitForAccess(/"GET \/ssh\/localhost HTTP\/1\.1" 101 /);
  });

  await t.test("wssh client --profile FILE TARGET as ssh's ProxyCommand runs a command", async () => {
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: viaClient(caProfile) }), 'echo ok'], { env: cleanEnv() });
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
  });

  const pinnedProfile = path.join(dir, 'pinned.wssh');
  await t.test('--pin-from-server --pin-only pins the certificate nginx presents and prints its subject and dates', async () => {
    const r = await wssh(['profile', 'create', nginx.url, '--pin-from-server', '--pin-only', '-o', pinnedProfile]);
    assert.equal(r.code, 0, r.stderr);
    const err = r.stderr;
    assert.match(err, new RegExp(`^The certificate localhost:${nginx.port} presents`, 'm'));
    assert.match(err, /^ {2}subject: +CN=localhost$/m);
    assert.match(err, /^ {2}issuer: +CN=WSSH test CA$/m);
    assert.match(err, /^ {2}valid from: +\w{3} +\d+ [\d:]+ \d{4} GMT$/m);
    assert.match(err, /^ {2}valid until: +\w{3} +\d+ [\d:]+ \d{4} GMT$/m);
    assert.ok(err.includes(`  sha256:      ${serverPin}\n`), err);
    // The test CA is not one Node trusts by default: the pin replaces the checks.
    assert.match(err, /The usual checks refuse it \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); with --pin-only the pin replaces them\./);
    const doc = JSON.parse(fs.readFileSync(pinnedProfile, 'utf8'));
    assert.deepEqual(doc.trust, { ca: [], pins: [serverPin], pinOnly: true });
    assert.equal(doc.name, 'localhost', 'the name defaults to the host');

    const ssh = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: viaClient(pinnedProfile) }), 'echo pinned'], { env: cleanEnv() });
    assert.equal(ssh.code, 0, `ssh failed: ${ssh.stderr}\n${logs()}`);
    assert.equal(ssh.stdout.toString(), 'pinned\n');
  });

  await t.test('--pin-from-server with --ca: the usual checks accept it too, and the pin is checked on top', async () => {
    const r = await wssh(['profile', 'create', nginx.url, '--ca', certs.caCert, '--pin-from-server']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /The usual checks \(issuer, name, dates\) accept it too; the pin is checked on top of them\./);
    assert.deepEqual(JSON.parse(r.stdout.toString()).trust.pins, [serverPin]);
    // Without --ca or --pin-only the admin is warned that clients would refuse it.
    const warned = await wssh(['profile', 'create', nginx.url, '--pin-from-server']);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /Warning: the usual checks refuse it \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): add --ca FILE/);
  });

  await t.test('a wrong pin in a profile: the tunnel is refused, saying so', async () => {
    const wrong = path.join(dir, 'wrong-pin.wssh');
    const r = await wssh(['profile', 'create', nginx.url, '--pin', `sha256/${Buffer.alloc(32, 7).toString('base64')}`, '--pin-only', '-o', wrong]);
    assert.equal(r.code, 0, r.stderr);
    const client = await runProgram(process.execPath, [WSSH_CLI, 'client', '--profile', wrong, 'localhost'], { env: cleanEnv(), timeoutMs: 30_000 });
    assert.equal(client.code, 1);
    assert.match(client.stderr, /does not match the pin: the certificate's fingerprint is /);
  });

  const userProfile = path.join(dir, 'alice.wssh');
  await t.test('a profile with --user: the secret comes from WSSH_SECRET, never from the profile', async () => {
    const r = await wssh(['profile', 'create', authNginx.url, '--user', 'alice', '--ca', certs.caCert, '-o', userProfile]);
    assert.equal(r.code, 0, r.stderr);
    const text = fs.readFileSync(userProfile, 'utf8');
    assert.equal(JSON.parse(text).user, 'alice');
    assert.doesNotMatch(text, /sesame/);
    const ok = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: viaClient(userProfile) }), 'echo authed'], {
      env: cleanEnv({ WSSH_SECRET: 'open sesame' }),
    });
    assert.equal(ok.code, 0, `ssh failed: ${ok.stderr}\n${authServer.output()}`);
    assert.equal(ok.stdout.toString(), 'authed\n');
    const none = await runProgram(process.execPath, [WSSH_CLI, 'client', '--profile', userProfile, 'localhost'], { env: cleanEnv(), timeoutMs: 30_000 });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /the profile names the user "alice": set WSSH_SECRET to send their secret/);
    assert.match(none.stderr, /401/);
  });

  await t.test('bad input: one line saying what and where, exit code 2, no file written', async () => {
    const bad = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    };
    const out = path.join(dir, 'never.wssh');
    await usageError(
      ['profile', 'create', 'wss://alice:s3cret@gw.example.com/ssh', '-o', out],
      /^wssh: endpoint "wss:\/\/alice:\*\*\*@gw\.example\.com\/ssh": it carries a secret, and a profile never holds one/,
    );
    assert.ok(!fs.existsSync(out));
    await usageError(
      ['profile', 'create', 'https://gw.example.com/ssh'],
      /^wssh: endpoint "https:\/\/gw\.example\.com\/ssh": use wss:\/\/ instead of https:\/\//,
    );
    await usageError(
      ['profile', 'create', 'wss://gw.example.com/ssh', '--ca', bad('not.pem', 'hello')],
      /^wssh: --ca "[^"]+not\.pem": no PEM certificate in it/,
    );
    const broken = fs.readFileSync(certs.caCert, 'utf8').replace(/\n[A-Za-z0-9+/]{12}/, '\n############');
    await usageError(
      ['profile', 'create', 'wss://gw.example.com/ssh', '--ca', bad('broken.pem', broken)],
      /^wssh: --ca "[^"]+broken\.pem": the PEM certificate is broken/,
    );
    await usageError(
      ['profile', 'create', 'wss://gw.example.com/ssh', '--pin', 'sha256/abc'],
      /^wssh: --pin "sha256\/abc": a sha256 fingerprint has 32 bytes, this one 2$/m,
    );
    await usageError(['profile', 'create', 'ws://gw.example.com/ssh', '--pin', serverPin], /^wssh: --pin: only for wss:\/\/ endpoints/);
    await usageError(['profile', 'create', 'wss://gw.example.com/ssh', '--pin-only'], /^wssh: --pin-only needs --pin or --pin-from-server$/m);
    await usageError(
      ['profile', 'create', 'wss://gw.example.com/ssh', '--proxy', 'http://bob:pw@proxy:3128'],
      /^wssh: --proxy: the URL carries user info, and a profile never holds a secret/,
    );
    await usageError(['profile', 'show', bad('config.txt', 'Host *\n')], /^wssh: profile "[^"]+config\.txt": not a WSSH profile: not JSON/);
    await usageError(
      ['profile', 'show', bad('newer.wssh', '{"wsshProfile": 2, "name": "x", "uri": "wss://gw/ssh", "tunnels": []}')],
      /^wssh: profile "[^"]+newer\.wssh": made by a newer WSSH \(profile version 2; this one reads version 1\)/,
    );
    await usageError(
      ['profile', 'show', bad('secret.wssh', '{"wsshProfile": 1, "name": "x", "uri": "wss://gw/ssh", "secret": "s3cret"}')],
      /^wssh: profile "[^"]+secret\.wssh": secret: a profile never holds a secret: remove this field$/m,
    );
    await usageError(
      ['profile', 'show', bad('badpin.wssh', '{"wsshProfile": 1, "name": "x", "uri": "wss://gw/ssh", "trust": {"pins": ["AB:CD"]}}')],
      /^wssh: profile "[^"]+badpin\.wssh": trust\.pins\[0\]: pin "AB:CD": expected/,
    );
    await usageError(
      ['profile', 'show', bad('http.wssh', '{"wsshProfile": 1, "name": "x", "uri": "http://gw/ssh"}')],
      /^wssh: profile "[^"]+http\.wssh": uri: use ws:\/\/ instead of http:\/\//,
    );
    await usageError(
      ['profile', 'show', bad('huge.wssh', ' '.repeat(70 * 1024))],
      /^wssh: profile "[^"]+huge\.wssh": not a WSSH profile: larger than 64 KiB$/m,
    );
    await usageError(['profile', 'show', path.join(dir, 'missing.wssh')], /^wssh: profile "[^"]+missing\.wssh": ENOENT$/m);
    await usageError(
      ['connect', '--profile', caProfile, '--pin', serverPin],
      /^wssh: --pin: the profile gives the TLS trust; use either --profile or these flags$/m,
    );
    await usageError(['connect', '--profile', caProfile, nginx.url], /^wssh: wssh connect takes no arguments, got 1/);
    await usageError(['client', '--profile', caProfile, 'bad host'], /^wssh: target "bad host": .* \(with --profile, give host or host:port\)$/m);
    await usageError(['profile', 'frobnicate'], /^wssh: unknown command "profile frobnicate" \(expected profile create, show or link/);
  });

  await t.test('--pin-from-server to a port where nothing listens: exit code 1 and why', async () => {
    const port = await freePort();
    const r = await wssh(['profile', 'create', `wss://127.0.0.1:${port}/ssh`, '--pin-from-server']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.length, 0);
    assert.equal(r.stderr, `wssh: --pin-from-server: cannot fetch the certificate of 127.0.0.1:${port}: connection refused\n`);
  });

  await t.test('profile link: a wssh://import link that carries the same profile', async () => {
    const r = await wssh(['profile', 'link', caProfile]);
    assert.equal(r.code, 0, r.stderr);
    const link = r.stdout.toString().trim();
    assert.match(link, /^wssh:\/\/import\?profile=[A-Za-z0-9_-]+$/);
    const carried = Buffer.from(link.slice('wssh://import?profile='.length), 'base64url').toString('utf8');
    assert.deepEqual(JSON.parse(carried), JSON.parse(fs.readFileSync(caProfile, 'utf8')));
  });

  await t.test('--help of the profile commands', async () => {
    for (const sub of ['create', 'show', 'link']) {
      const r = await wssh(['profile', sub, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout.toString(), new RegExp(`^Usage: wssh profile ${sub} `));
    }
    const create = (await wssh(['profile', 'create', '--help'])).stdout.toString();
    for (const flag of ['--name', '--ca', '--pin', '--pin-from-server', '--pin-only', '--servername', '--user', '-o, --output'])
      assert.ok(create.includes(`  ${flag} `), flag);
    for (const command of ['connect', 'client']) assert.match((await wssh([command, '--help'])).stdout.toString(), /--profile FILE/);
    assert.match((await wssh(['--help'])).stdout.toString(), /^ {2}profile /m);
  });
});
