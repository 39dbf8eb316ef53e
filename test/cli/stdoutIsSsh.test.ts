// `wssh client`'s stdout is the SSH connection (issue 24, item 4): a PAC
// script's alert() went to console.log, so a script could write
// `SSH-2.0-…` into the stream ssh reads. Now alert() is a line on stderr,
// escaped and bounded, and nothing but the relay can write to stdout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../fixtures/tmp';
import { cleanEnv, runWssh } from '../fixtures/wssh';

test("wssh client --pac: a script's alert() is a line on stderr, escaped and bounded, never a byte on stdout", async (t) => {
  const pac = path.join(tempDir(t), 'alert.pac');
  fs.writeFileSync(
    pac,
    `alert("SSH-2.0-OpenSSH_9.6\\r\\n\\u001b]52;c;cHduZWQ=\\u0007");
     function FindProxyForURL(url, host) {
       alert("SSH-2.0-at-lookup\\u202e");
       for (var i = 0; i < 1000; i++) alert("flood " + i);
       return "DIRECT";
     }`,
  );
  const r = await runWssh(['client', 'ws://127.0.0.1:9/ssh/db1.lan', '--pac', pac, '--keepalive', '0'], { env: cleanEnv() });
  assert.equal(r.stdout.length, 0, `stdout: ${JSON.stringify(r.stdout.subarray(0, 200).toString('latin1'))}…`);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^wssh: the PAC file .*alert\.pac says: SSH-2\.0-OpenSSH_9\.6\\x0d\\x0a\\x1b\]52;c;cHduZWQ=\\x07$/m);
  assert.match(r.stderr, /^wssh: the PAC file .*alert\.pac says: SSH-2\.0-at-lookup\\u202e$/m);
  assert.doesNotMatch(r.stderr, /[\u001b\u0007\u202e]/);
  // A script that alerts in a loop says a few lines, and then that it said more.
  const said = r.stderr.split('\n').filter((l) => / says: /.test(l));
  assert.ok(said.length <= 20, `${said.length} alert lines`);
  assert.match(r.stderr, /further alerts of the PAC file .* are not shown/);
  assert.match(r.stderr, /connection refused by ws:\/\/127\.0\.0\.1:9\/ssh/);
});

test('in wssh client, whatever else writes to stdout (console.log, process.stdout) goes to stderr as a note', () => {
  const guard = path.join(__dirname, '..', '..', 'src', 'cli', 'stdoutGuard.js');
  const script = `
    const { reserveStdout } = require(${JSON.stringify(guard)});
    const ssh = reserveStdout();
    console.log('console.log \\u001b[2J'); console.info('info'); console.dir({ a: 1 }); console.table([1]);
    process.stdout.write('process.stdout\\n');
    ssh().write('SSH-2.0-real\\r\\n');`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'latin1' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'SSH-2.0-real\r\n');
  assert.match(r.stderr, /^wssh: kept off stdout \(the SSH connection\): console\.log \\x1b\[2J$/m);
  assert.match(r.stderr, /^wssh: kept off stdout \(the SSH connection\): process\.stdout$/m);
  assert.doesNotMatch(r.stderr, /\u001b/);
});
