// Signing in to a corporate proxy, for real: squid with Basic
// (basic_ncsa_auth), with NTLM (ntlm_fake_auth), with Negotiate
// (negotiate_kerberos_auth against an MIT KDC this test starts), and one
// squid offering all three. Through each, OpenSSH's ssh runs `wssh client
// --proxy …` as its ProxyCommand, and a byte-exact transfer goes through
// `wssh connect --proxy …`; squid's access log names who signed in (the
// Kerberos principal where the strongest scheme won). Each way of failing
// is one clear line: no ticket, no credentials, wrong credentials, and the
// kerberos module missing (then NTLM goes on). Fixtures and their traps:
// test/fixtures/kdc.ts and squid.ts.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import path from 'node:path';
import { requirePrograms } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { runProgram } from '../../scripts/harness/processes';
import { digestOf, patternDigest, startSource } from '../fixtures/byteStreams';
import { connectThroughProxy, waitFor } from '../fixtures/tunnel';
import { KDC_PROGRAMS, startKdc } from '../fixtures/kdc';
import { startSquid, type Squid } from '../fixtures/squid';
import { WSSH_CLI, spawnWsshConnect, spawnWsshServer, writeHosts, cleanEnv } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';

const NO_KERBEROS = path.join(__dirname, '..', 'fixtures', 'noKerberos.js');
const SIZE = 8 * 1024 * 1024;

test('signing in to squid: Basic, NTLM, Negotiate, and the strongest of all three', async (t) => {
  if (!requirePrograms(t, 'sshd', 'ssh', 'squid', 'openssl', ...KDC_PROGRAMS)) return;
  try {
    require('kerberos');
  } catch (err) {
    // An optional dependency: npm goes on without it where it does not build.
    const message =
      `the kerberos module did not load (${(err as Error).message.split('\n')[0]}): ` +
      'apt-get install libkrb5-dev build-essential, then npm_config_nodedir=/usr npm_config_build_from_source=true npm install kerberos';
    if (process.env.CI === 'true') throw new Error(message, { cause: err });
    return void t.skip(message);
  }
  const dir = tempDir(t, 'wssh-e2e-proxyauth-');
  const kdc = await startKdc();
  t.after(() => kdc.stop());
  const ticket = await kdc.kinit();
  const withTicket = cleanEnv({ ...kdc.env, KRB5CCNAME: ticket });
  const noTicket = cleanEnv({ ...kdc.env, KRB5CCNAME: kdc.emptyCache() });

  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const source = await startSource(SIZE, 'proxy-auth');
  t.after(() => source.close());
  const server = await spawnWsshServer(writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\nsource.lan: "127.0.0.1:${source.port}"\n`));
  t.after(() => server.stop());
  const endpoint = `ws://127.0.0.1:${server.port}/ssh`;
  const expected = await patternDigest(SIZE, 'proxy-auth');

  const kerberos = { keytab: kdc.keytab, env: kdc.env, realm: kdc.realm };
  const [basic, ntlm, negotiate, all] = await Promise.all([
    startSquid({ schemes: ['basic'], basicUsers: { alice: 's3cret-Basic' } }),
    startSquid({ schemes: ['ntlm'] }),
    startSquid({ schemes: ['negotiate'], kerberos }),
    // Basic first in the 407: the client still picks the strongest.
    startSquid({ schemes: ['basic', 'ntlm', 'negotiate'], basicUsers: { alice: 's3cret-Basic' }, kerberos }),
  ]);
  for (const s of [basic, ntlm, negotiate, all]) t.after(() => s.stop());
  const logs = (s: Squid) => `--- squid:\n${s.log()}\n--- wssh server:\n${server.output()}\n--- kdc:\n${kdc.log()}`;

  /** ssh through `wssh client --proxy URL` (ssh expands %: a %5C in the URL is written %%5C). */
  const ssh = (proxyUrl: string, env: NodeJS.ProcessEnv) =>
    runSsh(
      [
        ...sshArgs(sshd, { host: 'localhost', proxyCommand: `${process.execPath} ${WSSH_CLI} client ${endpoint}/%h --proxy ${proxyUrl.replace(/%/g, '%%')}` }),
        'echo ok',
      ],
      {
        env,
        timeoutMs: 30_000,
      },
    );
  /** `wssh client` alone, for the failures (they come before any SSH byte). */
  const client = (proxyUrl: string, env: NodeJS.ProcessEnv, node: string[] = []) =>
    runProgram(process.execPath, [...node, WSSH_CLI, 'client', `${endpoint}/localhost`, '--proxy', proxyUrl], { env, timeoutMs: 30_000 });
  /** 8 MiB from the far end through `wssh connect --proxy URL`, as a hash. */
  const transfer = async (proxyUrl: string, env: NodeJS.ProcessEnv) => {
    const local = await spawnWsshConnect(endpoint, ['--proxy', proxyUrl, '--keepalive', '0'], env);
    try {
      const reply = await connectThroughProxy(local.port, 'source.lan:22');
      assert.equal(reply.status, 200, `${reply.statusLine} ${reply.body}\n${local.output()}`);
      return (await digestOf(reply.socket)).sha256;
    } finally {
      await local.stop();
    }
  };
  const tunnelsBy = (s: Squid, user: string) => s.access().filter((l) => l.method === 'CONNECT' && l.result === 'TCP_TUNNEL/200' && l.user === user).length;

  await t.test('Basic: ssh and a byte-exact transfer; squid logs the user', async () => {
    const url = `http://alice:s3cret-Basic@localhost:${basic.port}`;
    const r = await ssh(url, cleanEnv());
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs(basic)}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.equal(await transfer(url, cleanEnv()), expected);
    await waitFor(
      'two tunnels by alice in the access log',
      () => tunnelsBy(basic, 'alice') === 2,
      15_000,
      () => logs(basic),
    );
  });

  await t.test('NTLM with CORP\\alice (percent-encoded in the URL): ssh and a byte-exact transfer', async () => {
    const url = `http://CORP%5Calice:Pa%24%24word@localhost:${ntlm.port}`;
    const r = await ssh(url, cleanEnv());
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs(ntlm)}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.equal(await transfer(url, cleanEnv()), expected);
    await waitFor(
      'two tunnels signed in by NTLM in the access log',
      () => ntlm.access().filter((l) => l.result === 'TCP_TUNNEL/200' && l.user === 'CORP\\alice').length === 2,
      15_000,
      () => logs(ntlm),
    );
  });

  await t.test('Negotiate with a Kerberos ticket, no password anywhere: ssh and a byte-exact transfer; squid logs alice@WSSH.TEST', async () => {
    const url = `http://localhost:${negotiate.port}`;
    const r = await ssh(url, withTicket);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs(negotiate)}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.equal(await transfer(url, withTicket), expected);
    await waitFor(
      'two tunnels by alice@WSSH.TEST in the access log',
      () => tunnelsBy(negotiate, kdc.principal) === 2,
      15_000,
      () => logs(negotiate),
    );
  });

  await t.test('all three offered (Basic first): the strongest that can work wins', async () => {
    const url = `http://CORP%5Calice:s3cret-Basic@localhost:${all.port}`;
    // With a ticket: Negotiate, though credentials were given too.
    const r = await ssh(url, withTicket);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${logs(all)}`);
    assert.equal(await transfer(url, withTicket), expected);
    await waitFor(
      'two tunnels by alice@WSSH.TEST in the access log',
      () => tunnelsBy(all, kdc.principal) === 2,
      15_000,
      () => logs(all),
    );
    // Without a ticket: NTLM with the credentials, never Basic (the password stays off the wire).
    const n = await ssh(url, noTicket);
    assert.equal(n.code, 0, `ssh failed: ${n.stderr}\n${logs(all)}`);
    assert.equal(n.stderr, '');
    await all.waitForAccess('a tunnel signed in by NTLM', (l) => l.result === 'TCP_TUNNEL/200' && l.user === 'CORP\\alice');
    assert.equal(all.access().filter((l) => l.user === 'alice').length, 0, 'no Basic sign-in');
  });

  await t.test(
    '12 tunnels at once through the all-three squid, each signing in on its own (a new Kerberos context each: no replay refusals); each byte-exact',
    async () => {
      const url = `http://CORP%5Calice:s3cret-Basic@localhost:${all.port}`;
      const local = await spawnWsshConnect(endpoint, ['--proxy', url, '--keepalive', '0'], withTicket);
      try {
        const before = tunnelsBy(all, kdc.principal);
        const hashes = await Promise.all(
          Array.from({ length: 12 }, async () => {
            const reply = await connectThroughProxy(local.port, 'source.lan:22');
            assert.equal(reply.status, 200, `${reply.statusLine} ${reply.body}\n${local.output()}`);
            return (await digestOf(reply.socket)).sha256;
          }),
        );
        assert.deepEqual(hashes, Array(12).fill(expected));
        await waitFor(
          '12 more tunnels by alice@WSSH.TEST in the access log',
          () => tunnelsBy(all, kdc.principal) === before + 12,
          15_000,
          () => logs(all),
        );
      } finally {
        await local.stop();
      }
    },
  );

  await t.test('the kerberos module cannot load: one line says Negotiate is off and why, and NTLM goes on', async () => {
    const url = `http://CORP%5Calice:s3cret-Basic@localhost:${all.port}`;
    const r = await client(url, withTicket, ['-r', NO_KERBEROS]);
    // No SSH client on stdin: the tunnel opens, then ends with stdin; what matters is stderr.
    assert.equal(
      r.stderr,
      'wssh: Negotiate (Kerberos) for HTTP proxies is off: the kerberos module did not load: ' +
        'libgssapi_krb5.so.2: cannot open shared object file: No such file or directory; NTLM and Basic still work\n',
    );
    assert.equal(r.code, 0, r.stderr);
  });

  await t.test('failures say what the proxy wanted, what was tried, and what to do', async () => {
    const cases: Array<[string, string, NodeJS.ProcessEnv, string]> = [
      [
        'Negotiate only, no ticket',
        `http://localhost:${negotiate.port}`,
        noTicket,
        `wssh: the HTTP proxy at http://localhost:${negotiate.port} wants Negotiate (407 Proxy Authentication Required): no Kerberos ticket (run kinit, or sign in to the domain)\n`,
      ],
      [
        'NTLM only, no credentials',
        `http://localhost:${ntlm.port}`,
        noTicket,
        `wssh: the HTTP proxy at http://localhost:${ntlm.port} wants NTLM (407 Proxy Authentication Required) and no credentials were available: give DOMAIN\\user and password as http://DOMAIN%5Cuser:PASSWORD@host:port\n`,
      ],
      [
        'all three, neither ticket nor credentials',
        `http://localhost:${all.port}`,
        noTicket,
        `wssh: the HTTP proxy at http://localhost:${all.port} wants Basic, NTLM or Negotiate (407 Proxy Authentication Required) and no credentials or Kerberos ticket were available: no Kerberos ticket (run kinit, or sign in to the domain); or give DOMAIN\\user and password as http://DOMAIN%5Cuser:PASSWORD@host:port\n`,
      ],
      [
        'Negotiate only, the proxy written as an address: no key for HTTP/127.0.0.1',
        `http://127.0.0.1:${negotiate.port}`,
        withTicket,
        `wssh: the HTTP proxy at http://127.0.0.1:${negotiate.port} wants Negotiate (407 Proxy Authentication Required): the Kerberos realm does not know the service HTTP/127.0.0.1 (write the proxy's host name as the proxy's Kerberos key names it)\n`,
      ],
      [
        'Basic, no credentials',
        `http://localhost:${basic.port}`,
        cleanEnv(),
        `wssh: the HTTP proxy at http://localhost:${basic.port} requires authentication (407 Proxy Authentication Required): give it as http://USER:PASSWORD@host:port\n`,
      ],
      [
        'Basic, wrong password',
        `http://alice:wrong-pw@localhost:${basic.port}`,
        cleanEnv(),
        `wssh: the HTTP proxy at http://alice:***@localhost:${basic.port} refused the credentials of "alice" (407 Proxy Authentication Required): check the user and password\n`,
      ],
    ];
    for (const [what, url, env, message] of cases) {
      const r = await client(url, env);
      assert.equal(r.code, 1, what);
      assert.equal(r.stdout.length, 0, what);
      assert.equal(r.stderr, message, what);
      if (!url.includes('@')) assert.doesNotMatch(r.stderr, /check the/, `${what}: no "check the password" when none was sent`);
      assert.doesNotMatch(r.stderr, /wrong-pw|s3cret/);
    }
  });

  // Last: it changes the realm under the squids.
  await t.test("the proxy's key is stale: its refusal of the ticket is said so; with credentials too, NTLM takes over", async () => {
    await kdc.rekeyService();
    const fresh = cleanEnv({ ...kdc.env, KRB5CCNAME: await kdc.kinit() }); // a ticket with the new key, which squid's keytab lacks
    const r = await client(`http://localhost:${negotiate.port}`, fresh);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `wssh: the HTTP proxy at http://localhost:${negotiate.port} refused the Kerberos ticket sent with Negotiate (407 Proxy Authentication Required): the proxy may not hold the key for its name, or trust this realm (it offered Negotiate)\n`,
    );
    const before = all.access().filter((l) => l.result === 'TCP_TUNNEL/200' && l.user === 'CORP\\alice').length;
    const n = await ssh(`http://CORP%5Calice:s3cret-Basic@localhost:${all.port}`, fresh);
    assert.equal(n.code, 0, `ssh failed: ${n.stderr}\n${logs(all)}`);
    await waitFor(
      'one more tunnel signed in by NTLM',
      () => all.access().filter((l) => l.result === 'TCP_TUNNEL/200' && l.user === 'CORP\\alice').length === before + 1,
      15_000,
      () => logs(all),
    );
  });
});
