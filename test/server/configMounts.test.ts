// `wssh server` with its hosts.yml from a ConfigMap and its users file from a
// Secret, both mounted the way the kubelet mounts them and updated the way it
// updates them (a new `..data` link swapped in; test/fixtures/kubeletVolume.ts):
// an update reloads, a broken one keeps the last good. With
// --wait-for-config, a file that does not load at start leaves the server
// alive but not ready, every tunnel 503, until the kubelet brings the fix.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { waitForOutput } from '../../scripts/harness/processes';
import { startEcho } from '../fixtures/byteStreams';
import { tempDir } from '../fixtures/tmp';
import { KubeletVolume } from '../fixtures/kubeletVolume';
import { spawnWsshServer } from '../fixtures/wssh';
import { attempt, basic, echoOnce, probe } from '../fixtures/upgradeClient';
import { formatUserLine, hashSecret } from '../../server/auth/credentials';
import { REFUSAL_HEADER } from '../../src/core/tunnel/refusals';

async function userLine(user: string, secret: string): Promise<string> {
  return formatUserLine(user, await hashSecret(secret)) + '\n';
}

test('hosts.yml from a ConfigMap, users.yml from a Secret: each update reloads; a broken one keeps the last good', async (t) => {
  const dir = tempDir(t, 'wssh-mounts-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const hosts = new KubeletVolume(path.join(dir, 'config'));
  const users = new KubeletVolume(path.join(dir, 'users'));
  hosts.write({ 'hosts.yml': `echo.lan: "127.0.0.1:${echo.port}"\n` });
  users.write({ 'users.yml': await userLine('alice', 'alice secret') });
  const server = await spawnWsshServer(hosts.path('hosts.yml'), ['--users', users.path('users.yml'), '--keepalive', '0']);
  t.after(() => server.stop());
  const url = (target: string) => `ws://127.0.0.1:${server.port}/ssh/${target}`;
  const tunnel = async (user: string, secret: string, target = 'echo.lan') => {
    const r = await attempt(url(target), { Authorization: basic(user, secret) });
    if (!r.ws) return r.status;
    const back = await echoOnce(r.ws, 'hello');
    r.ws.close();
    return back === 'hello' ? 101 : -1;
  };
  const logged = (pattern: RegExp) => waitForOutput(server, pattern, 10_000);

  assert.equal(await tunnel('alice', 'alice secret'), 101);

  await t.test('the Secret updated: the new users apply to the next tunnel', async () => {
    users.write({ 'users.yml': await userLine('bob', 'bob secret') });
    await logged(/users: reloaded .*users\.yml: 1 user;/);
    assert.equal(await tunnel('bob', 'bob secret'), 101);
  });

  await t.test('the Secret updated with a broken file: logged with its line, bob still gets in', async () => {
    users.write({ 'users.yml': (await userLine('bob', 'bob secret')) + 'carol scrypt$oops\n' });
    await logged(/users: .*users\.yml:2:\d+: .*; keeping the last good users\n/);
    assert.equal(await tunnel('bob', 'bob secret'), 101);
  });

  await t.test('the ConfigMap updated: the new policy applies; a broken one keeps it', async () => {
    hosts.write({ 'hosts.yml': `echo.lan: false\nother.lan: "127.0.0.1:${echo.port}"\n` });
    await logged(/hosts: reloaded .*hosts\.yml: 2 rules/);
    assert.equal(await tunnel('bob', 'bob secret', 'other.lan'), 101);
    assert.equal(await tunnel('bob', 'bob secret'), 403);
    hosts.write({ 'hosts.yml': 'other.lan true\n' });
    await logged(/hosts: .*hosts\.yml:1:\d+: .*; keeping the last good policy\n/);
    assert.equal(await tunnel('bob', 'bob secret', 'other.lan'), 101);
  });

  await t.test('no secret reaches the log', () => {
    assert.doesNotMatch(server.output(), /alice secret|bob secret|scrypt\$/);
  });
});

test('--wait-for-config: a ConfigMap without hosts.yml and a broken Secret at start; ready once the kubelet brings the fixes', async (t) => {
  const dir = tempDir(t, 'wssh-mounts-wait-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const hosts = new KubeletVolume(path.join(dir, 'config'));
  const users = new KubeletVolume(path.join(dir, 'users'));
  hosts.write({ 'other.yml': 'not the key the server reads\n' });
  users.write({ 'users.yml': 'alice: scrypt$broken\n' });
  const server = await spawnWsshServer(hosts.path('hosts.yml'), ['--users', users.path('users.yml'), '--wait-for-config', '--keepalive', '0']);
  t.after(() => server.stop());
  const url = `ws://127.0.0.1:${server.port}/ssh/echo.lan`;
  await waitForOutput(server, /hosts: .*hosts\.yml: file not found; not ready until it loads\n/);
  await waitForOutput(server, /users: .*users\.yml:1:\d+: .*; not ready until it loads\n/);

  assert.deepEqual(await probe(server.port, '/healthz'), { status: 200, body: { status: 'ok' } });
  assert.deepEqual(await probe(server.port, '/readyz'), {
    status: 503,
    body: { status: 'not ready', reasons: ['waiting for hosts.yml', 'waiting for users file'] },
  });
  const early = await attempt(url, { Authorization: basic('alice', 'alice secret') });
  assert.equal(early.status, 503);
  assert.equal(early.headers?.[REFUSAL_HEADER.toLowerCase()], 'not-ready');

  hosts.write({ 'hosts.yml': `echo.lan: "127.0.0.1:${echo.port}"\n` });
  await waitForOutput(server, /hosts: .*hosts\.yml: 1 rules\n/);
  assert.deepEqual((await probe(server.port, '/readyz')).body.reasons, ['waiting for users file']);

  users.write({ 'users.yml': await userLine('alice', 'alice secret') });
  await waitForOutput(server, /users: .*users\.yml: 1 user; tunnels need a user name and secret\n/);
  assert.deepEqual(await probe(server.port, '/readyz'), { status: 200, body: { status: 'ready' } });
  const opened = await attempt(url, { Authorization: basic('alice', 'alice secret') });
  assert.ok(opened.ws, opened.error ?? String(opened.status));
  assert.equal(await echoOnce(opened.ws, 'ready'), 'ready');
  opened.ws.close();
  // Each reason is logged once, not at every poll.
  assert.equal(server.output().match(/file not found; not ready until it loads/g)?.length, 1, server.output());
});
