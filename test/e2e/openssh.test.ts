// OpenSSH end to end: a real sshd behind `wssh server`, reached by the real
// `ssh` client two ways, as users do it:
//   ssh -o ProxyCommand='wssh client ws://…/ssh/%h'          (stdio client)
//   ssh -o ProxyCommand='nc -X connect -x 127.0.0.1:P %h %p'  (CONNECT proxy, HTTP/1.0, no Host)
// plus the policy: a denied host is an error that names the reason, and a
// broken hosts.yml edit is reported with its line while the last good policy
// stays in force.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requirePrograms } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { WSSH_CLI, spawnWsshConnect, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';
import { waitForOutput } from '../../scripts/harness/processes';

/** Replace a file the way editors do (write a new one, rename it over): a poll never sees it half written. */
function replaceFile(file: string, text: string): void {
  fs.writeFileSync(file + '.new', text);
  fs.renameSync(file + '.new', file);
}

test('OpenSSH through wssh client and through wssh connect + nc', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nc');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-openssh-');

  const sshd = await startSshd();
  t.after(() => sshd.stop());

  const hostsText = [
    '# written by openssh.test.ts',
    `localhost: "127.0.0.1:${sshd.port}"`,
    // ssh through nc asks the proxy for localhost:PORT (ssh -p PORT).
    `"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"`,
    'blocked.example: false',
    '',
  ].join('\n');
  const hostsFile = writeHosts(dir, hostsText);
  const server = await spawnWsshServer(hostsFile);
  t.after(() => server.stop());
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${server.port}/ssh`);
  t.after(() => proxy.stop());

  const viaClient = `${process.execPath} ${WSSH_CLI} client ws://127.0.0.1:${server.port}/ssh/%h`;
  const viaNc = `${programs.nc} -X connect -x 127.0.0.1:${proxy.port} %h %p`;
  const logs = () => `--- wssh server:\n${server.output()}\n--- wssh connect:\n${proxy.output()}\n--- sshd:\n${sshd.log()}`;

  await t.test('ssh with ProxyCommand=wssh client runs a command', async () => {
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: viaClient }), 'echo ok']);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    // The server logged the tunnel: requested name, where the policy sent it, and why it ended.
    const closed = await waitFor('the tunnel close line', () =>
      /tunnel \d+ closed client=127\.0\.0\.1 target=localhost via=127\.0\.0\.1:\d+ up=\d+ down=\d+ .*reason=/.exec(server.output()),
    );
    assert.match(closed[0], new RegExp(`via=127\\.0\\.0\\.1:${sshd.port} `));
  });

  await t.test('ssh with ProxyCommand=nc -X connect through wssh connect runs a command', async () => {
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: viaNc }), 'echo ok']);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    await waitFor('the proxy to log the tunnel', () => new RegExp(`tunnel \\d+ open 127\\.0\\.0\\.1:\\d+ -> localhost:${sshd.port}`).test(proxy.output()));
  });

  await t.test('a host no rule allows: wssh client fails with 403 and the reason', async () => {
    const r = await runSsh([...sshArgs(sshd, { host: 'nope.example', proxyCommand: viaClient }), 'echo ok']);
    assert.equal(r.code, 255, `ssh should fail: ${r.stdout}`);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr, /^wssh: refused by the WSSH server \(403 Forbidden: no rule allows nope\.example\)$/m);
    await waitForOutput(server, /tunnel refused client=127\.0\.0\.1 target=nope\.example status=403 reason="no rule allows nope\.example"/);
  });

  await t.test('a host a rule denies: wssh client names the rule', async () => {
    const r = await runSsh([...sshArgs(sshd, { host: 'blocked.example', proxyCommand: viaClient }), 'echo ok']);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /^wssh: refused by the WSSH server \(403 Forbidden: denied by rule blocked\.example at line 4\)$/m);
  });

  await t.test('a denied host through the proxy: nc gets 403 and ssh fails', async () => {
    const r = await runSsh([...sshArgs(sshd, { host: 'nope.example', proxyCommand: viaNc }), 'echo ok']);
    assert.equal(r.code, 255, `ssh should fail: ${r.stdout}`);
    assert.equal(r.stdout.length, 0);
    // netcat-openbsd prints the proxy's status line.
    assert.match(r.stderr, /Proxy error: "HTTP\/1\.1 403 Forbidden"/);
    await waitForOutput(
      proxy,
      new RegExp(
        `refused nope\\.example:${sshd.port} from 127\\.0\\.0\\.1:\\d+: ` +
          `403 refused by the WSSH server \\(403 Forbidden: no rule allows nope\\.example:${sshd.port}\\)`,
      ),
    );
  });

  await t.test('a broken hosts.yml edit is reported with its line; the last good policy stays', async () => {
    // Line 3 lacks its colon, and the edit drops the localhost rules: if it
    // were applied, ssh to localhost would be refused.
    const broken = ['# an edit with a mistake', 'other.example: true', 'forgot.colon true', 'more.example: true', ''].join('\n');
    replaceFile(hostsFile, broken);
    const reported = await waitFor(
      'the server to report the broken hosts.yml',
      () => /hosts: (\S+hosts\.yml):(\d+):(\d+): (.*); keeping the last good policy/.exec(server.output()),
      10_000,
      logs,
    );
    assert.equal(path.resolve(reported[1]), path.resolve(hostsFile));
    assert.equal(reported[2], '3', `the line of the mistake: ${reported[0]}`);
    assert.equal(server.exitStatus(), undefined, 'the server keeps running');

    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: viaClient }), 'echo still ok']);
    assert.equal(r.code, 0, `ssh failed after a broken edit: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'still ok\n');

    // A good edit afterwards is taken: now localhost is denied and says so.
    replaceFile(hostsFile, 'other.example: true\n');
    await waitFor('the reload', () => /hosts: reloaded \S+hosts\.yml: 1 rules/.test(server.output()), 10_000, logs);
    const denied = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: viaClient }), 'echo ok']);
    assert.equal(denied.code, 255);
    assert.match(denied.stderr, /403 Forbidden: no rule allows localhost\)/);
  });
});
