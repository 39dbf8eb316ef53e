// `wssh doctor` through squid when the proxy's sign-in is the broken hop:
// Basic with a wrong password, NTLM with no credentials, Negotiate with no
// Kerberos ticket (an MIT KDC this test starts), and each of them working.
// The proxy step says what the 407 offered, what was tried, and what to do;
// the steps before it (DNS and TCP to the proxy) pass; no password appears
// in the report. Fixtures and their traps: test/fixtures/squid.ts, kdc.ts.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { requirePrograms } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { KDC_PROGRAMS, startKdc } from '../fixtures/kdc';
import { startSquid } from '../fixtures/squid';
import { cleanEnv, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { doctor, expectBrokenAt, expectStep, expectWorks, type DoctorRun } from '../fixtures/doctor';

const PASSWORD = 's3cret-Doctor';

test('wssh doctor through squid: the proxy sign-in named when it is what fails', async (t) => {
  if (!requirePrograms(t, 'sshd', 'squid', 'openssl', ...KDC_PROGRAMS)) return;
  try {
    require('kerberos');
  } catch (err) {
    const message = `the kerberos module did not load (${(err as Error).message.split('\n')[0]}): see docs/corporate-proxies.md#the-kerberos-module`;
    if (process.env.CI === 'true') throw new Error(message, { cause: err });
    return void t.skip(message);
  }
  const dir = tempDir(t, 'wssh-e2e-doctor-proxy-');
  const kdc = await startKdc();
  t.after(() => kdc.stop());
  const withTicket = cleanEnv({ ...kdc.env, KRB5CCNAME: await kdc.kinit() });
  const noTicket = cleanEnv({ ...kdc.env, KRB5CCNAME: kdc.emptyCache() });
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const server = await spawnWsshServer(writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\n`));
  t.after(() => server.stop());
  const endpoint = `ws://127.0.0.1:${server.port}/ssh`;
  const [basic, ntlm, negotiate] = await Promise.all([
    startSquid({ schemes: ['basic'], basicUsers: { alice: PASSWORD } }),
    startSquid({ schemes: ['ntlm'] }),
    startSquid({ schemes: ['negotiate'], kerberos: { keytab: kdc.keytab, env: kdc.env, realm: kdc.realm } }),
  ]);
  for (const s of [basic, ntlm, negotiate]) t.after(() => s.stop());
  const noSecret = (run: DoctorRun) => {
    assert.ok(!JSON.stringify(run.diagnosis).includes(PASSWORD) && !run.stderr.includes(PASSWORD), `a password in the report\n${run.shown}`);
  };
  /** The steps up to the proxy passed: its name resolved and connected to. */
  const reachedProxy = (run: DoctorRun) => {
    expectStep(run, 'dns', 'pass', { answer: /^localhost → / });
    expectStep(run, 'tcp', 'pass');
    assert.match(run.diagnosis.steps.find((s) => s.step === 'tcp')!.tried, /\(the HTTP proxy\)$/);
  };

  await t.test('Basic: a wrong password is refused; the right one signs in', async () => {
    const wrong = await doctor([endpoint, 'localhost', '--proxy', `http://alice:wrong-${PASSWORD}@localhost:${basic.port}`], cleanEnv());
    expectBrokenAt(wrong, 'proxy');
    reachedProxy(wrong);
    expectStep(wrong, 'proxy', 'fail', {
      answer: /^407 Proxy Authentication Required; offers Basic; Basic as alice: refused$/,
      cause: /refused the credentials of "alice"/,
      fix: /correct the proxy user and password in --proxy http:\/\/USER:PASSWORD@HOST:PORT/,
    });
    noSecret(wrong);
    const right = await doctor([endpoint, 'localhost', '--proxy', `http://alice:${PASSWORD}@localhost:${basic.port}`], cleanEnv());
    expectWorks(right);
    expectStep(right, 'proxy', 'pass', { answer: /^200: tunnel open, signed in with Basic as alice$/ });
    noSecret(right);
  });

  await t.test('NTLM: no credentials given; with CORP\\alice it signs in', async () => {
    const none = await doctor([endpoint, 'localhost', '--proxy', `http://localhost:${ntlm.port}`], noTicket);
    expectBrokenAt(none, 'proxy');
    reachedProxy(none);
    expectStep(none, 'proxy', 'fail', {
      answer: /^407 Proxy Authentication Required; offers NTLM; NTLM: no credentials$/,
      cause: /wants NTLM .* no credentials were available/,
      fix: /give the proxy user and password in --proxy/,
    });
    const signed = await doctor([endpoint, 'localhost', '--proxy', `http://CORP%5Calice:${PASSWORD}@localhost:${ntlm.port}`], noTicket);
    expectWorks(signed);
    expectStep(signed, 'proxy', 'pass', { answer: /^407 first \(offers NTLM\), then 200: tunnel open, signed in with NTLM as CORP\\alice$/ });
    noSecret(signed);
  });

  await t.test('Negotiate: no Kerberos ticket says so and how to get one; with a ticket it signs in', async () => {
    const none = await doctor([endpoint, 'localhost', '--proxy', `http://localhost:${negotiate.port}`], noTicket);
    expectBrokenAt(none, 'proxy');
    reachedProxy(none);
    expectStep(none, 'proxy', 'fail', {
      answer: /offers Negotiate; Negotiate: no Kerberos ticket/,
      cause: /wants Negotiate .*no Kerberos ticket/,
      fix: /^sign in to the Windows domain \(kinit on Linux\) for a Kerberos ticket: this proxy takes nothing else$/,
    });
    const signed = await doctor([endpoint, 'localhost', '--proxy', `http://localhost:${negotiate.port}`], withTicket);
    expectWorks(signed);
    expectStep(signed, 'proxy', 'pass', { answer: /signed in with Negotiate \(a Kerberos ticket\)$/ });
  });
});
