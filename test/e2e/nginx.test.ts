// nginx in front of the WSSH server, as in production: TLS with a throwaway
// CA that the client trusts through --ca (verification is never turned off),
// the client address passed in X-Forwarded-For, and WebSocket pings that keep
// an idle tunnel alive past nginx's proxy_read_timeout. Also nginx's
// auth_basic in front of a server without a users file.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import { requirePrograms } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { makeCertificates } from '../../scripts/harness/tls';
import { startNginx } from '../../scripts/harness/nginx';
import { runChecked } from '../../scripts/harness/processes';
import { startEcho } from '../fixtures/byteStreams';
import { WSSH_CLI, spawnWsshConnect, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { connectThroughProxy, endedWithin, roundTrip, waitFor } from '../fixtures/tunnel';
import { attempt, basic, echoOnce } from '../fixtures/upgradeClient';

/** nginx's proxy_read_timeout in this test: an idle WebSocket dies after this long without pings. */
const READ_TIMEOUT_S = 3;

test('through nginx with TLS', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nginx', 'openssl');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-nginx-');
  const certs = await makeCertificates(dir);

  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const echo = await startEcho();
  t.after(() => echo.close());

  const hostsFile = writeHosts(dir, [`localhost: "127.0.0.1:${sshd.port}"`, `"127.0.0.1:${echo.port}": true`, ''].join('\n'));
  const server = await spawnWsshServer(hostsFile, ['--keepalive', '1']);
  t.after(() => server.stop());
  const nginx = await startNginx({
    upstreamPort: server.port,
    tls: { cert: certs.serverCert, key: certs.serverKey },
    readTimeoutSeconds: READ_TIMEOUT_S,
    // nginx reaches the server from 127.0.0.2, the SSH client comes from
    // 127.0.0.1: a log line with client=127.0.0.1 can only come from
    // X-Forwarded-For, not from the TCP peer address.
    extra: 'proxy_bind 127.0.0.2;',
  });
  t.after(() => nginx.stop());
  const logs = () => `--- wssh server:\n${server.output()}\n--- nginx:\n${nginx.log()}`;
  const client = (extra: string) => `${process.execPath} ${WSSH_CLI} client ${nginx.url}/%h ${extra}`;

  await t.test('ssh with ProxyCommand=wssh client wss://… --ca runs a command', async () => {
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: client(`--ca ${certs.caCert}`) }), 'echo ok']);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    // The access log shows the upgrade went through nginx.
    await nginx.waitForAccess(/"GET \/ssh\/localhost HTTP\/1\.1" 101 /);
  });

  await t.test('the server logs the client address from X-Forwarded-For', async () => {
    const closed = await waitFor('the tunnel close line', () => /tunnel \d+ closed client=(\S+) target=localhost .*/.exec(server.output()), 10_000, logs);
    assert.equal(closed[1], '127.0.0.1', closed[0]);
    // A client cannot forge its address: nginx appends the one it saw, and the server takes the last.
    const ws = new WebSocket(`${nginx.url}/127.0.0.1%3A${echo.port}`, {
      ca: fs.readFileSync(certs.caCert),
      headers: { 'X-Forwarded-For': '203.0.113.9' },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(data as Buffer)));
    ws.send(Buffer.from('ping through nginx'));
    assert.equal((await echoed).toString(), 'ping through nginx');
    ws.close();
    const forged = await waitFor('the forged tunnel close line', () =>
      new RegExp(`tunnel \\d+ closed client=(\\S+) target=127\\.0\\.0\\.1:${echo.port} `).exec(server.output()),
    );
    assert.equal(forged[1], '127.0.0.1', forged[0]);
  });

  await t.test('without --ca the client fails: the certificate issuer is unknown', async () => {
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand: client('') }), 'echo ok']);
    assert.equal(r.code, 255);
    assert.equal(r.stdout.length, 0);
    assert.match(
      r.stderr,
      new RegExp(
        `^wssh: TLS: the certificate of wss://localhost:${nginx.port}/ssh is from an unknown issuer \\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)\\); trust its CA$`,
        'm',
      ),
    );
  });

  await t.test('keepalive: an idle tunnel outlives proxy_read_timeout; without pings nginx closes it', async (st) => {
    // With pings: the server above (--keepalive 1) and a proxy with --keepalive 1.
    const proxy = await spawnWsshConnect(nginx.url, ['--ca', certs.caCert, '--keepalive', '1']);
    st.after(() => proxy.stop());
    // Without: a second server and proxy with --keepalive 0, behind a second nginx with the same timeout.
    const quietServer = await spawnWsshServer(hostsFile, ['--keepalive', '0']);
    st.after(() => quietServer.stop());
    const quietNginx = await startNginx({
      upstreamPort: quietServer.port,
      tls: { cert: certs.serverCert, key: certs.serverKey },
      readTimeoutSeconds: READ_TIMEOUT_S,
    });
    st.after(() => quietNginx.stop());
    // Today's tunnel (no resume): nginx's cut ends it.
    const quietProxy = await spawnWsshConnect(quietNginx.url, ['--ca', certs.caCert, '--keepalive', '0', '--no-resume']);
    st.after(() => quietProxy.stop());
    // A resumable tunnel without pings: nginx's cut is a break, and the tunnel is resumed.
    const resumingProxy = await spawnWsshConnect(quietNginx.url, ['--ca', certs.caCert, '--keepalive', '0']);
    st.after(() => resumingProxy.stop());

    const target = `127.0.0.1:${echo.port}`;
    const [alive, quiet, resuming] = await Promise.all([
      connectThroughProxy(proxy.port, target),
      connectThroughProxy(quietProxy.port, target),
      connectThroughProxy(resumingProxy.port, target),
    ]);
    st.after(() => {
      alive.socket.destroy();
      quiet.socket.destroy();
      resuming.socket.destroy();
    });
    assert.deepEqual(await roundTrip(resuming.socket, Buffer.from('before the cut')), Buffer.from('before the cut'));
    assert.equal(alive.statusLine, 'HTTP/1.1 200 Connection established');
    assert.equal(quiet.statusLine, 'HTTP/1.1 200 Connection established');
    const hello = crypto.randomBytes(1000);
    assert.deepEqual(await roundTrip(alive.socket, hello), hello);
    // nginx's read timer for the quiet tunnel starts at its last byte, which
    // it relayed after this moment: timed from here, the close cannot come
    // before proxy_read_timeout, however late this process sees it.
    const quietLastSent = Date.now();
    assert.deepEqual(await roundTrip(quiet.socket, hello), hello);

    // Both idle now. The one without pings is cut by nginx after ~3 s; the
    // one with pings must stay open for more than twice that.
    const idleStart = Date.now();
    const quietEnded = endedWithin(quiet.socket, 60_000).then((ended) => {
      quiet.socket.end(); // our side too, as a client would
      return { ended, afterMs: Date.now() - quietLastSent };
    });
    const [q] = await Promise.all([quietEnded, new Promise((r) => setTimeout(r, 8_000))]);
    assert.ok(q.ended, 'without keepalive, nginx should close the idle tunnel');
    assert.ok(q.afterMs >= (READ_TIMEOUT_S - 0.5) * 1000, `closed after ${q.afterMs} ms; expected proxy_read_timeout (${READ_TIMEOUT_S} s) first`);
    st.diagnostic(`without pings the idle tunnel was closed after ${(q.afterMs / 1000).toFixed(1)} s (proxy_read_timeout ${READ_TIMEOUT_S}s)`);

    // With pings, after 8 s idle the same tunnel still carries bytes both ways.
    assert.ok(!alive.socket.readableEnded && !alive.socket.destroyed, 'the keepalive tunnel is still open');
    const later = crypto.randomBytes(100_000);
    assert.deepEqual(await roundTrip(alive.socket, later), later);
    st.diagnostic(`with pings every 1 s the tunnel carried a round trip after ${((Date.now() - idleStart) / 1000).toFixed(1)} s idle`);
    await waitFor(
      'the quiet proxy to log the closed tunnel',
      () => /tunnel \d+ closed 127\.0\.0\.1:\d+ up=1000 down=1000 \(connection to the peer was lost\)/.test(quietProxy.output()),
      10_000,
      () => quietProxy.output(),
    );
    assert.doesNotMatch(proxy.output(), /tunnel \d+ closed/);
    // The resumable one was cut by nginx too, and resumed: it still carries bytes.
    await waitFor(
      "the resume after nginx's idle cut",
      () => /resumed after/.test(resumingProxy.output()),
      20_000,
      () => resumingProxy.output(),
    );
    assert.deepEqual(await roundTrip(resuming.socket, later), later);
  });
});

test('nginx auth_basic instead (nginx/wssh-auth-basic.conf): nginx answers 401, the server needs no users file', async (t) => {
  const programs = requirePrograms(t, 'nginx', 'openssl');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-auth-basic-');
  const echo = await startEcho();
  t.after(() => echo.close());
  // As the snippet says: printf 'alice:%s\n' "$(openssl passwd -6)".
  const hash = (await runChecked(programs.openssl, ['passwd', '-6', '-stdin'], { input: 'nginx secret\n' })).stdout.toString().trim();
  const htpasswd = path.join(dir, 'wssh.htpasswd');
  fs.writeFileSync(htpasswd, `alice:${hash}\n`);
  const wssh = await spawnWsshServer(writeHosts(dir, `"127.0.0.1:${echo.port}": true\n`), ['--keepalive', '0']);
  t.after(() => wssh.stop());
  const nginx = await startNginx({
    upstreamPort: wssh.port,
    // At server level it covers the location; the snippet puts it in the location itself.
    extra: `auth_basic "wssh";\n    auth_basic_user_file ${htpasswd};`,
  });
  t.after(() => nginx.stop());
  const url = `${nginx.url}/127.0.0.1%3A${echo.port}`;

  const none = await attempt(url);
  assert.equal(none.status, 401);
  assert.equal(none.headers!['www-authenticate'], 'Basic realm="wssh"');
  const wrong = await attempt(url, { Authorization: basic('alice', 'guess') });
  assert.equal(wrong.status, 401);
  const { ws } = await attempt(url, { Authorization: basic('alice', 'nginx secret') });
  assert.ok(ws, `the tunnel should open:\n${nginx.log()}`);
  assert.equal(await echoOnce(ws, 'via nginx auth'), 'via nginx auth');
  ws.close();
  // The refused ones never reached the WSSH server.
  assert.doesNotMatch(wssh.output(), /refused/);
});
