// `wssh doctor`'s command line (src/cli/doctorCommand.ts) with Node alone: its
// usage errors, an endpoint from a profile, the report as text and as JSON,
// and the exit code, against `wssh server` and a TCP server that greets like
// sshd. (With nginx, squid, sshd and a TLS middlebox: test/e2e/doctor*.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServerProcess } from '../../scripts/harness/wsshProcesses';
import { startBannerServer } from '../fixtures/appHarness';
import { cleanEnv, runWssh, usageError, writeHosts } from '../fixtures/wssh';
import { doctor, expectStep, expectWorks } from '../fixtures/doctor';
import { tempDir } from '../fixtures/tmp';

test('wssh doctor: usage errors in one line, exit code 2', async () => {
  await usageError(['doctor'], /^wssh: wssh doctor takes one or two arguments, got 0 \(see wssh doctor --help\)$/m);
  await usageError(['doctor', 'ws://gw/ssh', 'a', 'b'], /^wssh: wssh doctor takes one or two arguments, got 3/m);
  await usageError(['doctor', 'https://gw/ssh'], /^wssh: endpoint "https:\/\/gw\/ssh": /m);
  await usageError(['doctor', 'ws://gw/ssh', 'db1:99999'], /^wssh: target "db1:99999": .* \(give host or host:port\)$/m);
  await usageError(['doctor', 'ws://gw/ssh', '--idle-max', '5'], /^wssh: --idle-max: only with --idle$/m);
  await usageError(['doctor', 'ws://gw/ssh', '--pin', 'x'], /^wssh: --pin: only for wss:\/\/ endpoints/m);
});

test('wssh doctor --profile FILE HOST: the endpoint from the profile; the text report and the JSON one agree', async (t) => {
  const dir = tempDir(t);
  const banner = await startBannerServer();
  t.after(() => banner.close());
  const server = await startServerProcess(writeHosts(dir, `"sshd.lan": "127.0.0.1:${banner.port}"\n`));
  t.after(() => server.stop());
  const profile = path.join(dir, 'office.wssh');
  const made = await runWssh(['profile', 'create', `ws://127.0.0.1:${server.port}/ssh`, '--no-proxy', '-o', profile], { env: cleanEnv() });
  assert.equal(made.code, 0, made.stderr);

  const run = await doctor(['--profile', profile, 'sshd.lan']);
  expectWorks(run);
  expectStep(run, 'route', 'pass', { answer: /^the profile's proxy mode: DIRECT$/ });
  expectStep(run, 'target', 'pass', { answer: /^allowed; "SSH-2\.0-OpenSSH_9\.2p1 WsshTest" after \d+ ms$/ });
  assert.equal(run.diagnosis.target, 'sshd.lan');
  assert.equal(run.diagnosis.endpoint, `ws://127.0.0.1:${server.port}/ssh`);

  const text = await runWssh(['doctor', '--profile', profile, 'db9.lan'], { env: cleanEnv() });
  assert.equal(text.code, 1);
  const lines = text.stdout.toString().trimEnd().split('\n');
  assert.deepEqual(
    lines.map((l) => l.trim().split(/\s+/, 2).join(' ')),
    ['checking the', 'ok route', 'skip dns', 'ok tcp', 'ok upgrade', 'FAIL target', 'cause: the', 'fix: check', 'the path'],
  );
  assert.equal(lines.at(-1), 'the path is broken at: target (db9.lan through the WSSH server)');
});
