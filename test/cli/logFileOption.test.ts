// `--log-file FILE` of wssh server, connect and client (src/cli/logFileOption.ts):
// what the command writes on stderr is also in the file, each line with its
// time; stderr is unchanged; a file that cannot be opened is a usage error;
// and the generated local proxy credential, a secret, is in neither log.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../scripts/harness/ports';
import { startConnectProcess, startServerProcess } from '../../scripts/harness/wsshProcesses';
import { cleanEnv, runWssh, usageError, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';

const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;
const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

test('wssh server --log-file: the log is in the file as on stderr', async (t) => {
  const dir = tempDir(t);
  const log = path.join(dir, 'logs', 'server.log');
  const server = await startServerProcess(writeHosts(dir, 'localhost: true\n'), ['--log-file', log]);
  t.after(() => server.stop());
  await waitFor(
    'the listening line in the file',
    () => /listening on ws:\/\/127\.0\.0\.1:\d+\//.test(read(log)),
    10_000,
    () => read(log),
  );
  for (const line of read(log).split('\n').filter(Boolean)) {
    assert.match(line, STAMP);
    assert.ok(server.output().includes(line), `the file's line is on stderr too: ${line}`);
  }
});

test('wssh client --log-file: its `wssh: …` lines are in the file, with a time', async (t) => {
  const log = path.join(tempDir(t), 'client.log');
  const r = await runWssh(['client', `ws://127.0.0.1:${await freePort()}/ssh/db1.lan`, '--no-proxy', '--log-file', log], { env: cleanEnv(), input: '' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^wssh: connection refused by ws:\/\/127\.0\.0\.1:\d+\/ssh: is the WSSH server running\?\n$/);
  const lines = read(log).split('\n').filter(Boolean);
  assert.equal(lines.length, 1, read(log));
  assert.match(lines[0], STAMP);
  assert.equal(lines[0].replace(STAMP, ''), r.stderr.trimEnd());
});

test('--log-file that cannot be opened: a usage error naming it', async (t) => {
  const dir = tempDir(t);
  await usageError(
    ['client', 'ws://127.0.0.1:1/ssh/db1.lan', '--log-file', dir],
    new RegExp(`^wssh: --log-file "${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}": EISDIR$`, 'm'),
  );
});

test('wssh connect --proxy-user generate: the credential is given on stdout, never in the log', async (t) => {
  const log = path.join(tempDir(t), 'connect.log');
  const proxy = await startConnectProcess('ws://127.0.0.1:1/ssh', ['--proxy-user', 'generate', '--log-file', log]);
  t.after(() => proxy.stop());
  const credential = await waitFor(
    'the generated credential',
    () => /user wssh, password (\S+);/.exec(proxy.output())?.[1],
    10_000,
    () => proxy.output(),
  );
  await waitFor('the log file', () => /CONNECT proxy on/.test(read(log)));
  assert.ok(!read(log).includes(credential), read(log));
});
