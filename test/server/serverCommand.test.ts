// `wssh server` as admins run it, for what issue 4 added: --hash-secret makes
// a users-file line that --users accepts; the users file reloads on change and
// on SIGHUP (a broken edit keeps the last good users); the limit flags reach
// the server; --stats-interval logs the counters; bad values are one-line
// usage errors; the warning about Basic auth in clear text off loopback.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runProgram, waitForOutput } from '../../scripts/harness/processes';
import { startEcho } from '../fixtures/byteStreams';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';
import { WSSH_CLI, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { attempt, basic, echoOnce, rawRequest } from '../fixtures/upgradeClient';
import { plainUsersWarning } from '../../src/cli/serverCommand';

function wssh(args: string[], input?: string) {
  return runProgram(process.execPath, [WSSH_CLI, ...args], { input, timeoutMs: 15_000 });
}

async function hashLine(user: string, secret: string): Promise<string> {
  const r = await wssh(['server', '--hash-secret', user], `${secret}\nignored second line\n`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.toString();
}

/** Replaces a file the way editors do: write a new one, rename it over. */
function replaceFile(file: string, text: string): void {
  fs.writeFileSync(file + '.new', text);
  fs.renameSync(file + '.new', file);
}

test('--hash-secret prints a users-file line; the secret comes from stdin, never from argv', async () => {
  const line = await hashLine('alice', 'from stdin');
  assert.match(line, /^alice: scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+\n$/);
  const quoted = await hashLine('Jürgen M', 'x');
  assert.match(quoted, /^"Jürgen M": scrypt\$/);
  const empty = await wssh(['server', '--hash-secret', 'alice'], '\n');
  assert.equal(empty.code, 1);
  assert.equal(empty.stderr, 'wssh: empty secret; nothing printed\n');
  assert.equal(empty.stdout.length, 0);
  const colon = await wssh(['server', '--hash-secret', 'a:b'], 'x\n');
  assert.equal(colon.code, 2);
  assert.match(colon.stderr, /^wssh: --hash-secret "a:b": a user name cannot contain ":"/);
});

test('wssh server --users: a line from --hash-secret lets its user in; the file reloads on change and on SIGHUP', async (t) => {
  const dir = tempDir(t, 'wssh-users-cli-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const hosts = writeHosts(dir, `echo.lan: "127.0.0.1:${echo.port}"\n`);
  const usersFile = path.join(dir, 'users.yml');
  fs.writeFileSync(usersFile, '# made with wssh server --hash-secret\n' + (await hashLine('alice', 'alice secret')));
  const server = await spawnWsshServer(hosts, ['--users', usersFile, '--keepalive', '0']);
  t.after(() => server.stop());
  const url = `ws://127.0.0.1:${server.port}/ssh/echo.lan`;
  const tryAs = (user: string, secret: string) => attempt(url, { Authorization: basic(user, secret) });
  await waitForOutput(server, /users: .*users\.yml: 1 user; tunnels need a user name and secret\n/);

  await t.test('the right secret opens a tunnel; none or a wrong one is 401', async () => {
    const ok = await tryAs('alice', 'alice secret');
    assert.ok(ok.ws, server.output());
    assert.equal(await echoOnce(ok.ws, 'authenticated'), 'authenticated');
    ok.ws.close();
    const none = await attempt(url);
    assert.equal(none.status, 401);
    assert.equal(none.headers!['www-authenticate'], 'Basic realm="wssh"');
    assert.equal((await tryAs('alice', 'wrong')).status, 401);
    await waitFor('the open line', () => /tunnel \d+ open client=127\.0\.0\.1 target=echo\.lan via=\S+ user=alice\n/.test(server.output()));
  });

  await t.test('an edit to the file applies to the next tunnel', async () => {
    replaceFile(usersFile, await hashLine('bob', 'bob secret'));
    await waitFor(
      'the reload',
      () => /users: reloaded .*users\.yml: 1 user;/.test(server.output()),
      5000,
      () => server.output(),
    );
    const bob = await tryAs('bob', 'bob secret');
    assert.ok(bob.ws);
    bob.ws.close();
    // alice is gone. Her failure slows the next attempt from this address: that is the backoff at work.
    assert.equal((await tryAs('alice', 'alice secret')).status, 401);
  });

  await t.test('a broken edit is logged with its line; the last good users stay', async () => {
    const good = fs.readFileSync(usersFile, 'utf8');
    replaceFile(usersFile, good + 'carol scrypt$oops\n');
    await waitFor(
      'the error',
      () => /users: .*users\.yml:2:\d+: .*; keeping the last good users\n/.test(server.output()),
      5000,
      () => server.output(),
    );
    const bob = await tryAs('bob', 'bob secret');
    assert.ok(bob.ws, 'bob still gets in');
    bob.ws.close();
    replaceFile(usersFile, good);
  });

  await t.test('SIGHUP reloads hosts.yml and the users file at once, and the server stays up', async () => {
    const before = server.output().length;
    server.child.kill('SIGHUP');
    await waitFor(
      'the SIGHUP reload',
      () => {
        const since = server.output().slice(before);
        return /SIGHUP: reloading\n/.test(since) && /hosts: reloaded /.test(since) && /users: reloaded /.test(since);
      },
      5000,
      () => server.output(),
    );
    assert.equal(server.exitStatus(), undefined);
    const bob = await tryAs('bob', 'bob secret');
    assert.ok(bob.ws);
    bob.ws.close();
  });

  await t.test('no secret reaches the log', () => {
    assert.doesNotMatch(server.output(), /alice secret|bob secret|scrypt\$/);
  });
});

test('a broken users file at start: the server does not start, and says where', async (t) => {
  const dir = tempDir(t, 'wssh-users-broken-');
  const hosts = writeHosts(dir, 'localhost: true\n');
  const usersFile = path.join(dir, 'users.yml');
  fs.writeFileSync(usersFile, 'alice: hunter2\n');
  const r = await wssh(['server', '--listen', '127.0.0.1:0', '--hosts', hosts, '--users', usersFile]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^wssh: ${usersFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:8: the hash for "alice" is not scrypt`, 'm'));
  const missing = await wssh(['server', '--listen', '127.0.0.1:0', '--hosts', hosts, '--users', path.join(dir, 'nope.yml')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.yml: file not found\n$/);
});

test('the limit flags reach the server; --stats-interval logs the counters', async (t) => {
  const dir = tempDir(t, 'wssh-limits-cli-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const hosts = writeHosts(dir, `echo.lan: "127.0.0.1:${echo.port}"\n`);
  const server = await spawnWsshServer(hosts, ['--max-tunnels', '1', '--max-path', '40', '--stats-interval', '0.5', '--keepalive', '0']);
  t.after(() => server.stop());
  const url = `ws://127.0.0.1:${server.port}/ssh/echo.lan`;
  const first = await attempt(url);
  assert.ok(first.ws, server.output());
  const second = await attempt(url);
  assert.equal(second.status, 503);
  const long = await rawRequest(server.port, `GET /ssh/${'x'.repeat(40)} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`);
  assert.match(long, /^HTTP\/1\.1 414 URI Too Long\r\n/);
  await waitFor(
    'a stats line',
    () => /stats open=1 total=1 up=0 down=0 refused=2 \(414 path-too-long=1, 503 capacity=1\)\n/.test(server.output()),
    5000,
    () => server.output(),
  );
  first.ws.close();
});

test('bad limit values are one-line usage errors', async () => {
  for (const [args, expected] of [
    [['--max-tunnels', 'many'], /^wssh: --max-tunnels "many": expected a whole number\n$/],
    [['--max-tunnels-per-client', '1.5'], /^wssh: --max-tunnels-per-client "1\.5": expected a whole number\n$/],
    [['--handshake-timeout', '0'], /^wssh: --handshake-timeout must be more than 0 seconds\n$/],
    [['--idle-timeout', 'soon'], /^wssh: --idle-timeout "soon": expected a number of seconds\n$/],
    [['--max-path', '0'], /^wssh: --max-path must be more than 0 bytes\n$/],
    [['--trust-proxy', '10.0.0.0/33'], /^wssh: --trust-proxy "10\.0\.0\.0\/33": "10\.0\.0\.0\/33" is not an IP address or CIDR range/],
  ] as Array<[string[], RegExp]>) {
    const r = await wssh(['server', '--listen', '127.0.0.1:0', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, expected);
  }
});

test('--users off loopback warns that Basic auth crosses the network in clear text; loopback however spelled does not', async (t) => {
  // `--listen` takes addresses only, so a DNS name that starts with "127." is
  // judged where the command decides: it is another machine, warned about.
  assert.match(plainUsersWarning('127.evil.example') ?? '', /^users: listening on 127\.evil\.example without TLS: Basic auth secrets are readable/);
  const named = await wssh(['server', '--listen', '127.evil.example:0']);
  assert.equal(named.code, 2);
  assert.match(named.stderr, /"127\.evil\.example" is not an IP address \(or localhost\)/);

  const dir = tempDir(t, 'wssh-users-plain-');
  const hosts = writeHosts(dir, 'localhost: true\n');
  const usersFile = path.join(dir, 'users.yml');
  fs.writeFileSync(usersFile, await hashLine('alice', 'secret'));
  const WARNING = /users: listening on .* without TLS/;
  // The warning is logged before the line that says the server listens.
  const started = await Promise.all(
    ['0.0.0.0:0', '[::ffff:127.0.0.1]:0', '[0:0:0:0:0:0:0:1]:0'].map(async (listen) => {
      const server = await spawnWsshServer(hosts, ['--users', usersFile, '--listen', listen, '--keepalive', '0']);
      t.after(() => server.stop());
      return { listen, output: server.output() };
    }),
  );
  const warned = Object.fromEntries(started.map(({ listen, output }) => [listen, WARNING.test(output)]));
  assert.deepEqual(warned, { '0.0.0.0:0': true, '[::ffff:127.0.0.1]:0': false, '[0:0:0:0:0:0:0:1]:0': false }, started.map((s) => s.output).join('\n'));
});
