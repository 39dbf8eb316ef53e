// No secret in what the CLI writes (issue 21): `wssh server --users` and
// `wssh connect` with --log-file, `wssh client` refused by the proxy with
// --log-file, and `wssh doctor --save` with the secrets in the endpoint, in
// --proxy and in the environment. Each is used with the endpoint's secret,
// a proxy password (a proxy that wants Basic: once given the right one, once
// a wrong one), the generated local proxy credential and a PKCS#12
// passphrase; then every file written, and the processes' stderr, is
// searched for every secret as typed, %-encoded, in base64 (alone and as
// Basic's user:secret) and JSON-escaped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startConnectProcess, startServerProcess } from '../../scripts/harness/wsshProcesses';
import { formatUserLine, hashSecret } from '../../server/auth/credentials';
import { secretForms } from '../../src/core/doctor/diagnosticsFile';
import { startBannerServer } from '../fixtures/appHarness';
import { startSignInProxy } from '../fixtures/signInProxy';
import { cleanEnv, runWssh, writeHosts } from '../fixtures/wssh';
import { connectThroughProxy, waitFor } from '../fixtures/tunnel';
import { tempDir } from '../fixtures/tmp';

const ENDPOINT_SECRET = 'cli-End-s3cret/+=';
const PROXY_PASSWORD = 'cli-Pr0xy:pass';
const PFX_PASSPHRASE = 'cli-pfx-phrase';

test('the CLI: no secret in --log-file files, stderr, or the doctor --save file', async (t) => {
  const dir = tempDir(t);
  const banner = await startBannerServer();
  t.after(() => banner.close());
  const { port: proxyPort } = await startSignInProxy(t, 'bob', PROXY_PASSWORD);
  const users = path.join(dir, 'users.yml');
  fs.writeFileSync(users, formatUserLine('alice', await hashSecret(ENDPOINT_SECRET, { N: 1024 })) + '\n');
  const file = (name: string) => path.join(dir, 'logs', name);
  const server = await startServerProcess(writeHosts(dir, `"sshd.lan": "127.0.0.1:${banner.port}"\n`), ['--users', users, '--log-file', file('server.log')]);
  t.after(() => server.stop());
  const endpoint = `ws://alice:${encodeURIComponent(ENDPOINT_SECRET)}@127.0.0.1:${server.port}/ssh`;
  const proxy = (password: string) => `http://bob:${encodeURIComponent(password)}@127.0.0.1:${proxyPort}`;
  const env = cleanEnv({ HTTPS_PROXY: proxy(PROXY_PASSWORD), HTTP_PROXY: proxy(PROXY_PASSWORD), WSSH_PFX_PASSPHRASE: PFX_PASSPHRASE });

  // wssh connect through the proxy, the generated credential given by a client, then a wrong one.
  const connect = await startConnectProcess(
    endpoint,
    ['--proxy', proxy(PROXY_PASSWORD), '--proxy-user', 'generate', '--log-file', file('connect.log')],
    'wssh connect',
    env,
  );
  t.after(() => connect.stop());
  const credential = await waitFor(
    'the generated credential',
    () => /user (\S+), password (\S+);/.exec(connect.output()),
    10_000,
    () => connect.output(),
  );
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const opened = await connectThroughProxy(connect.port, 'sshd.lan:22', { headers: { 'Proxy-Authorization': basic(credential[1], credential[2]) } });
  assert.equal(opened.status, 200, `${opened.statusLine}\n${connect.output()}`);
  opened.socket.destroy();
  const refused = await connectThroughProxy(connect.port, 'sshd.lan:22', { headers: { 'Proxy-Authorization': basic(credential[1], 'wrong') } });
  assert.equal(refused.status, 407);
  await waitFor('the tunnel closed in the log', () => /tunnel \d+ closed/.test(fs.readFileSync(file('connect.log'), 'utf8')));

  // wssh client refused by the proxy (a wrong password), and by the server (a wrong secret).
  const client = await runWssh(['client', `${endpoint}/sshd.lan`, '--proxy', proxy('wrong-password'), '--log-file', file('client.log')], { env, input: '' });
  assert.equal(client.code, 1);
  assert.match(client.stderr, /refused the credentials of "bob"/);
  const wrongSecret = await runWssh(
    ['client', `ws://alice:${encodeURIComponent(`not-${ENDPOINT_SECRET}`)}@127.0.0.1:${server.port}/ssh/sshd.lan`, '--log-file', file('client.log')],
    {
      env,
      input: '',
    },
  );
  assert.equal(wrongSecret.code, 1);

  // wssh doctor --save: the path works through the proxy; the file says so, without a secret.
  const doctor = await runWssh(['doctor', endpoint, 'sshd.lan', '--proxy', proxy(PROXY_PASSWORD), '--save', path.join(dir, 'diagnostics.txt')], { env });
  assert.equal(doctor.code, 0, doctor.stdout.toString() + doctor.stderr);
  const diagnostics = fs.readFileSync(path.join(dir, 'diagnostics.txt'), 'utf8');
  assert.match(diagnostics, /^HTTPS_PROXY=http:\/\/bob:\*\*\*@127\.0\.0\.1:\d+$/m);
  assert.match(diagnostics, /signed in with Basic as bob/);
  assert.match(diagnostics, /^ok {4}target /m);
  await connect.stop();
  await server.stop();

  const forms = [
    ...secretForms({ user: 'alice', secret: ENDPOINT_SECRET }),
    ...secretForms({ user: 'alice', secret: `not-${ENDPOINT_SECRET}` }),
    ...secretForms({ user: 'bob', secret: PROXY_PASSWORD }),
    ...secretForms({ user: 'bob', secret: 'wrong-password' }),
    ...secretForms({ user: credential[1], secret: credential[2] }),
    ...secretForms(PFX_PASSPHRASE),
  ];
  const written: Array<[string, string]> = [
    ...fs.readdirSync(path.join(dir, 'logs')).map((f): [string, string] => [f, fs.readFileSync(path.join(dir, 'logs', f), 'utf8')]),
    ['diagnostics.txt', diagnostics],
    ['wssh server stderr', server.output()],
    ['wssh client stderr', client.stderr + wrongSecret.stderr],
    ['wssh doctor output', doctor.stdout.toString() + doctor.stderr],
  ];
  assert.deepEqual(
    written
      .map(([name]) => name)
      .slice(0, 3)
      .sort(),
    ['client.log', 'connect.log', 'server.log'],
  );
  for (const [name, text] of written) {
    assert.ok(text.length > 0, `${name} is empty`);
    for (const form of forms) assert.ok(!text.includes(form), `${name} holds a secret (${JSON.stringify(form)}):\n${text}`);
  }
});
