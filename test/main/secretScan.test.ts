// No secret in the tray app's log or its diagnostics file (issue 21). The app
// is used with every kind of secret it holds: an endpoint's secret (sent as
// HTTP Basic to a real WSSH server in this process), a proxy password (a
// recording CONNECT proxy that wants Basic, once refused), a PKCS#12
// passphrase, and the local proxy credential (on; a tunnel opened with it
// and one refused for a wrong one). It starts the tunnel, carries a
// tunnel, runs Test and Diagnose (working and broken), then saves the
// diagnostics file. The log file in the data folder, the window's log lines
// and the diagnostics file are then searched for every secret in every form
// it could take there: as typed, %-encoded, base64 (alone and as Basic's
// user:secret), JSON-escaped, and sealed as the settings file keeps it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createAppApi, wireAppEvents } from '../../src/main/window/appApi';
import { LogBook } from '../../src/main/window/logBook';
import { LogFile } from '../../src/core/logFile';
import { TunnelController } from '../../src/main/tunnel/tunnelController';
import { EndpointDiagnoses } from '../../src/main/tunnel/endpointDiagnosis';
import { localProxyAuth } from '../../src/main/settings/localProxySignIn';
import { settingsControllerOptions } from '../../src/main/appStartup';
import { secretForms } from '../../src/core/doctor/diagnosticsFile';
import { freePort } from '../../scripts/harness/ports';
import { openTestSettings, startBannerServer, startInProcessServer, testCipher } from '../fixtures/appHarness';
import { connectThroughProxy } from '../fixtures/tunnel';
import { tempDir } from '../fixtures/tmp';
import { startSignInProxy } from '../fixtures/signInProxy';

const ENDPOINT_SECRET = 'Endpoint-s3cret-ÄÖ';
const PROXY_PASSWORD = 'Pr0xy-pa$$word';
const PFX_PASSPHRASE = 'pfx-Passphrase-42';

test('the app: no secret in its log file, its log lines, or its diagnostics file, in any form', async (t) => {
  const dir = tempDir(t);
  const wssh = await startInProcessServer();
  const banner = await startBannerServer();
  t.after(async () => {
    await wssh.server.close();
    await banner.close();
  });
  const { port: proxyPort } = await startSignInProxy(t, 'bob', PROXY_PASSWORD);
  const { settings } = await openTestSettings(dir, testCipher());
  const logFile = new LogFile(path.join(dir, 'logs', 'wssh.log'));
  t.after(() => logFile.close());
  const log = new LogBook(1000, Date.now, logFile);
  const proxyAuth = localProxyAuth(settings, undefined);
  const controller = new TunnelController({ ...settingsControllerOptions(settings, log), drainMs: 0, proxyCredential: () => proxyAuth.credential() });
  t.after(() => controller.stop(0));
  const diagnoses = new EndpointDiagnoses();
  const api = createAppApi({
    settings,
    controller,
    log,
    diagnoses,
    clipboard: { writeText: () => {} },
    chooseSavePath: async (name) => path.join(dir, name),
    chooseDiagnosticsPath: async (name) => path.join(dir, name),
    localProxyAuth: proxyAuth,
    versions: [['WSSH', 'test']],
  });
  t.after(wireAppEvents({ settings, controller, log, diagnoses }, () => {}));

  // Every kind of secret the app holds.
  const saved = await api.saveEndpoint({
    name: 'Corp',
    uri: wssh.uri,
    user: 'alice',
    secret: ENDPOINT_SECRET,
    keepaliveSec: 0,
    proxy: { url: `http://127.0.0.1:${proxyPort}` },
    proxyAuth: { mode: 'password', user: 'bob' },
    proxySecret: PROXY_PASSWORD,
  });
  assert.ok(saved.ok, JSON.stringify(saved));
  const other = await api.saveEndpoint({
    name: 'Certificate',
    uri: 'wss://127.0.0.1:1/ssh',
    user: '',
    keepaliveSec: 0,
    proxy: 'none',
    trust: { clientPfx: path.join(dir, 'missing.pfx') },
    clientPassphrase: PFX_PASSPHRASE,
  });
  assert.ok(other.ok, JSON.stringify(other));
  await api.selectEndpoint(saved.value.id);
  await api.updateSettings({ listen: { host: '127.0.0.1', port: await freePort() }, localProxyAuth: 'on' });
  const credential = proxyAuth.credential()!;

  // Use it: a tunnel with the local proxy credential, one refused for a wrong one, Test, Diagnose, a refused proxy password.
  const state = await api.startTunnel();
  assert.equal(state.status, 'listening', JSON.stringify(state));
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const tunnel = await connectThroughProxy(state.listen.port, `127.0.0.1:${banner.port}`, {
    headers: { 'Proxy-Authorization': basic(credential.user, credential.password) },
  });
  assert.equal(
    tunnel.status,
    200,
    `${tunnel.statusLine}\n${log
      .lines()
      .map((l) => l.text)
      .join('\n')}`,
  );
  tunnel.socket.destroy();
  const refused = await connectThroughProxy(state.listen.port, `127.0.0.1:${banner.port}`, {
    headers: { 'Proxy-Authorization': basic(credential.user, 'wrong') },
  });
  assert.equal(refused.status, 407);
  const input = { id: saved.value.id, name: 'Corp', uri: wssh.uri, user: 'alice', keepaliveSec: 0 };
  assert.equal((await api.testEndpoint({ endpoint: input, target: `127.0.0.1:${banner.port}` })).ok, true);
  assert.ok((await api.diagnose({ run: 'ok', endpoint: input, target: `127.0.0.1:${banner.port}` })).ok);
  const wrongPassword = await api.diagnose({ run: 'wrong', endpoint: { ...input, proxySecret: 'not-the-password' }, target: 'db1.lan' });
  assert.ok(wrongPassword.ok && wrongPassword.value.steps.some((s) => s.step === 'proxy' && s.verdict === 'fail'), JSON.stringify(wrongPassword));
  await api.diagnose({ run: 'denied', target: 'db1.lan' });
  await api.testEndpoint({ endpoint: { ...input, id: other.value.id, uri: 'wss://127.0.0.1:1/ssh' }, target: 'db1.lan' });
  const written = await api.saveDiagnostics();
  assert.equal(written.status, 'saved', JSON.stringify(written));
  const diagnostics = fs.readFileSync((written as { path: string }).path, 'utf8');
  await api.stopTunnel();

  // What each was said to be, and what must never be there.
  assert.match(diagnostics, /^Corp \(active\): ws:\/\/127\.0\.0\.1:\d+\/ssh$/m);
  assert.match(diagnostics, /user: alice, secret stored \(not shown\)/);
  assert.match(diagnostics, /proxy sign-in: bob \(password stored, not shown\)/);
  assert.match(diagnostics, /== The last diagnosis \(Corp\)/);
  assert.match(diagnostics, /the gateway's hosts\.yml does not allow db1\.lan/);
  const stored = JSON.parse(fs.readFileSync(settings.path, 'utf8')) as {
    endpoints: Array<{ secret: string; proxyAuth?: { secret?: string }; clientPassphrase?: string }>;
    localProxyAuth: { password: string };
  };
  const sealed = [...stored.endpoints.flatMap((e) => [e.secret, e.proxyAuth?.secret ?? '', e.clientPassphrase ?? '']), stored.localProxyAuth.password].filter(
    Boolean,
  );
  assert.equal(sealed.length, 4, 'each secret is sealed in the settings file');
  const forms = [
    ...secretForms({ user: 'alice', secret: ENDPOINT_SECRET }),
    ...secretForms({ user: 'bob', secret: PROXY_PASSWORD }),
    ...secretForms({ user: 'bob', secret: 'not-the-password' }),
    ...secretForms(PFX_PASSPHRASE),
    ...secretForms({ user: credential.user, secret: credential.password }),
    ...sealed,
  ];
  const logText = fs
    .readdirSync(path.join(dir, 'logs'))
    .map((f) => fs.readFileSync(path.join(dir, 'logs', f), 'utf8'))
    .join('\n');
  assert.match(logText, /diagnosis of .* broken at proxy/, 'the log file has the run');
  const lines = log
    .lines()
    .map((l) => l.text)
    .join('\n');
  for (const [what, text] of [
    ['the log file', logText],
    ['the log lines', lines],
    ['the diagnostics file', diagnostics],
  ] as const) {
    for (const form of forms) assert.ok(!text.includes(form), `${what} holds a secret (${JSON.stringify(form)}):\n${text}`);
  }
});
