// The doctor's walk (src/core/doctor/pathWalk.ts) on real sockets in this
// process: a WSSH server, a TCP server that greets like sshd, a CONNECT
// proxy that wants Basic, a PAC script naming a dead proxy then DIRECT. Each
// step is told as it completes and in the path's order; the failed step is
// the hop at fault; the idle probe tells a server's --idle-timeout from its
// bound; and the diagnostics file's scrub takes out every form of a secret.
// (Against nginx, squid, sshd and a TLS middlebox: test/e2e/doctor*.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { WsshServer } from '../../server/wsshServer';
import { parseEndpoint } from '../../src/shared/endpoint';
import { parseTarget } from '../../src/shared/target';
import type { DiagnosisStep } from '../../src/shared/diagnosis';
import { planDial, type ProxySource } from '../../src/core/dial/endpointPlan';
import { runDoctor, type DoctorOptions } from '../../src/core/doctor/pathWalk';
import type { DoctorWords } from '../../src/core/doctor/stepWords';
import { diagnosticsText, proxyEnvironmentLines, secretForms, withoutSecrets } from '../../src/core/doctor/diagnosticsFile';
import { freePort } from '../../scripts/harness/ports';
import { startBannerServer, startInProcessServer } from '../fixtures/appHarness';
import { startSignInProxy } from '../fixtures/signInProxy';

const WORDS: DoctorWords = {
  proxy: 'PROXY-SETTING',
  proxySignIn: 'SIGN-IN-SETTING',
  ca: 'CA-SETTING',
  pin: 'PIN-SETTING',
  servername: 'NAME-SETTING',
  clientCertificate: 'CERT-SETTING',
  credentials: 'CREDENTIALS-SETTING',
  keepalive: 'KEEPALIVE-SETTING',
  remedy: (message) => `${message} (remedy)`,
};

async function walk(uri: string, target: string, proxy: ProxySource, extra: Partial<DoctorOptions> = {}) {
  const told: DiagnosisStep[] = [];
  const diagnosis = await runDoctor({
    endpoint: parseEndpoint(uri),
    target: parseTarget(target),
    plan: planDial({ proxy }),
    routeSource: 'SOURCE',
    words: WORDS,
    onStep: (step) => told.push(step),
    ...extra,
  });
  assert.deepEqual(told, diagnosis.steps, 'each step was told as it completed, in order');
  const step = (name: string) => diagnosis.steps.filter((s) => s.step === name).at(-1)!;
  return { diagnosis, step, verdicts: diagnosis.steps.map((s) => `${s.step} ${s.verdict}`) };
}

test('the working path, direct and through a proxy that wants Basic; a wrong password is the proxy step', async (t) => {
  const wssh = await startInProcessServer();
  const banner = await startBannerServer();
  t.after(async () => {
    await wssh.server.close();
    await banner.close();
  });
  const direct = await walk(wssh.uri, `127.0.0.1:${banner.port}`, { kind: 'none' });
  assert.equal(direct.diagnosis.ok, true);
  assert.deepEqual(direct.verdicts, ['route pass', 'dns skip', 'tcp pass', 'upgrade pass', 'target pass']);
  assert.equal(direct.step('route').answer, 'SOURCE: DIRECT');
  assert.equal(direct.step('upgrade').answer, '101 Switching Protocols; WSSH-Server: 2');

  const { port: proxyPort } = await startSignInProxy(t, 'bob', 'right');
  const through = await walk(wssh.uri, `127.0.0.1:${banner.port}`, { kind: 'url', url: `http://bob:right@localhost:${proxyPort}` });
  assert.deepEqual(through.verdicts, ['route pass', 'dns pass', 'tcp pass', 'proxy pass', 'upgrade pass', 'target pass']);
  assert.equal(through.step('route').answer, `SOURCE: http://bob:***@localhost:${proxyPort}`);
  assert.match(through.step('dns').tried, /^DNS of localhost \(the HTTP proxy\)$/);
  assert.equal(through.step('proxy').answer, '200: tunnel open, signed in with Basic as bob');

  const wrong = await walk(wssh.uri, `127.0.0.1:${banner.port}`, { kind: 'url', url: `http://bob:wrong@localhost:${proxyPort}` });
  assert.deepEqual(wrong.verdicts, ['route pass', 'dns pass', 'tcp pass', 'proxy fail', 'upgrade skip', 'target skip']);
  assert.equal(wrong.step('proxy').answer, '407 Proxy Authentication Required; offers Basic; Basic as bob: refused');
  assert.match(wrong.step('proxy').fix!, /^correct the proxy user and password in SIGN-IN-SETTING/);
  assert.ok(!JSON.stringify(wrong.diagnosis).includes('wrong'), 'no password in the diagnosis');
});

test("a dead proxy from a PAC answer, then DIRECT: a warning, and the path works; the server's refusals name the target", async (t) => {
  const wssh = await startInProcessServer('/^127\\.0\\.0\\.1(:\\d+)?$/: true\nsshd-down: "127.0.0.1:1"\n');
  const banner = await startBannerServer();
  t.after(async () => {
    await wssh.server.close();
    await banner.close();
  });
  const dead = await freePort();
  const script = { source: 'TEST-PAC', find: async () => `PROXY 127.0.0.1:${dead}; DIRECT` };
  const pac = await walk(wssh.uri, `127.0.0.1:${banner.port}`, { kind: 'pac', script });
  assert.equal(pac.diagnosis.ok, true);
  assert.deepEqual(pac.verdicts, ['route pass', 'dns skip', 'tcp warn', 'dns skip', 'tcp pass', 'upgrade pass', 'target pass']);
  assert.equal(pac.step('route').answer, `SOURCE: http://127.0.0.1:${dead}, then DIRECT`);
  assert.equal(pac.diagnosis.steps[2].answer, `connection refused; http://127.0.0.1:${dead} skipped, trying DIRECT`);
  assert.match(pac.diagnosis.steps[2].fix!, /PROXY-SETTING/);

  const denied = await walk(wssh.uri, 'db1.lan', { kind: 'none' });
  assert.deepEqual(denied.verdicts, ['route pass', 'dns skip', 'tcp pass', 'upgrade pass', 'target fail']);
  assert.equal(denied.step('target').cause, "the gateway's hosts.yml does not allow db1.lan");
  const down = await walk(wssh.uri, 'sshd-down', { kind: 'none' });
  assert.match(down.step('target').cause!, /^no SSH server listens on sshd-down/);
  // No host given: the stand-in's refusal is no failure.
  const untested = await walk(wssh.uri, 'db1.lan', { kind: 'none' }, { targetGiven: false });
  assert.equal(untested.diagnosis.ok, true);
  assert.equal(untested.step('target').verdict, 'skip');

  const closed = await walk(`ws://127.0.0.1:${dead}/ssh`, 'db1.lan', { kind: 'none' });
  assert.deepEqual(closed.verdicts, ['route pass', 'dns skip', 'tcp fail', 'upgrade skip', 'target skip']);
});

test('a route setting that gives nothing usable is the route step, with the remedy', async () => {
  const script = { source: 'TEST-PAC', find: async () => 'SOCKS 127.0.0.1:1080' };
  const run = await walk('ws://127.0.0.1:1/ssh', 'db1.lan', { kind: 'pac', script });
  assert.deepEqual(run.verdicts, ['route fail']);
  assert.match(run.step('route').cause!, /has no HTTP proxy and no DIRECT/);
  assert.match(run.step('route').fix!, /\(remedy\)$/);
});

test("--idle: the server's --idle-timeout is told apart; without a cut, the bound ends it", async (t) => {
  const banner = await startBannerServer();
  const policy = HostsPolicy.parse('/^127\\.0\\.0\\.1(:\\d+)?$/: true\n');
  const idleServer = new WsshServer({ policy: () => policy, keepaliveMs: 0, idleTimeoutMs: 300 });
  const { port } = await idleServer.listen(0, '127.0.0.1');
  t.after(async () => {
    await idleServer.close();
    await banner.close();
  });
  const progress: number[] = [];
  const cut = await walk(`ws://127.0.0.1:${port}/ssh`, `127.0.0.1:${banner.port}`, { kind: 'none' }, { idle: { maxMs: 10_000 } });
  assert.equal(cut.step('idle').verdict, 'warn');
  assert.match(cut.step('idle').answer, /^closed after 1 s \(WebSocket 1001 "idle timeout"\)$/);
  assert.match(cut.step('idle').cause!, /^the WSSH server's --idle-timeout closed the tunnel/);

  const wssh = await startInProcessServer();
  t.after(() => wssh.server.close());
  const held = await walk(
    wssh.uri,
    `127.0.0.1:${banner.port}`,
    { kind: 'none' },
    { idle: { maxMs: 400, progressMs: 100, onProgress: (ms) => progress.push(ms) } },
  );
  assert.equal(held.diagnosis.ok, true);
  assert.equal(held.step('idle').verdict, 'pass');
  assert.match(held.step('idle').answer, /^still open after \d+ s$/);
  assert.ok(progress.length >= 2, `progress told: ${progress.join(', ')}`);
});

test('the diagnostics file: every form of a secret is taken out, a URL keeps its user, the proxy variables show no password', () => {
  const secret = 'p@ss:wörd/+';
  const text = [
    `as typed ${secret}`,
    `encoded ${encodeURIComponent(secret)}`,
    `base64 ${Buffer.from(secret).toString('base64')}`,
    `basic Basic ${Buffer.from(`alice:${secret}`).toString('base64')}`,
    `json ${JSON.stringify({ secret })}`,
    'url http://bob:whatever@proxy:3128 and wss://token@gw/ssh',
  ].join('\n');
  const clean = withoutSecrets(text, [{ user: 'alice', secret }]);
  for (const form of secretForms({ user: 'alice', secret })) assert.ok(!clean.includes(form), `${form} in ${clean}`);
  assert.match(clean, /url http:\/\/bob:\*\*\*@proxy:3128 and wss:\/\/\*\*\*@gw\/ssh/);
  assert.deepEqual(proxyEnvironmentLines({ HTTPS_PROXY: 'http://CORP%5Calice:pw@proxy:3128', no_proxy: '.corp', PATH: '/bin' }), [
    'HTTPS_PROXY=http://CORP%5Calice:***@proxy:3128',
    'no_proxy=.corp',
  ]);
  const file = diagnosticsText({ writer: 'a test', versions: [['x', '1']], sections: [{ title: 'Empty', lines: [] }] }, [], new Date(0));
  assert.deepEqual(file.split('\n'), [
    'WSSH diagnostics, written by a test at 1970-01-01T00:00:00.000Z',
    'Secrets (passwords, tokens, credentials) are not in this file.',
    '',
    '== Versions',
    'x: 1',
    '',
    '== Empty',
    '(none)',
    '',
  ]);
});
