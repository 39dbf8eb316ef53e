// The tray app's "Diagnose" through the WsshApi as main implements it
// (src/main/tunnel/endpointDiagnosis.ts), against a real WSSH server in this
// process and a TCP server that greets like sshd: each step is an event of
// the window's run as it completes, the whole diagnosis comes back, the log
// says how it ended, and a fix names the endpoint editor's field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../../scripts/harness/ports';
import { openTestApi, startBannerServer, startInProcessServer } from '../fixtures/appHarness';
import type { DiagnosisProgress, EndpointInput } from '../../src/shared/ipc';

async function rig(t: Parameters<typeof openTestApi>[0]) {
  const wssh = await startInProcessServer();
  const banner = await startBannerServer();
  t.after(async () => {
    await wssh.server.close();
    await banner.close();
  });
  const app = await openTestApi(t);
  const steps = (run: string) =>
    app.events
      .filter(([event, payload]) => event === 'diagnosis:step' && (payload as DiagnosisProgress).run === run)
      .map(([, p]) => (p as DiagnosisProgress).step);
  return { ...app, wssh, banner, steps };
}

test('Diagnose the edited endpoint: each step as an event, then the whole; the log says the path works', async (t) => {
  const { api, wssh, banner, steps, log } = await rig(t);
  const endpoint: EndpointInput = { name: 'Corp', uri: wssh.uri, user: '', keepaliveSec: 0, proxy: 'none' };
  const outcome = await api.diagnose({ run: 'editor-1', endpoint, target: `127.0.0.1:${banner.port}` });
  assert.ok(outcome.ok, JSON.stringify(outcome));
  const diagnosis = outcome.value;
  assert.equal(diagnosis.ok, true);
  assert.deepEqual(
    diagnosis.steps.map((s) => [s.step, s.verdict]),
    [
      ['route', 'pass'],
      ['dns', 'skip'],
      ['tcp', 'pass'],
      ['upgrade', 'pass'],
      ['target', 'pass'],
    ],
  );
  assert.equal(diagnosis.steps[0].answer, 'Proxy: None: DIRECT');
  assert.match(diagnosis.steps[4].answer, /^allowed; "SSH-2\.0-OpenSSH_9\.2p1 WsshTest" after \d+ ms$/);
  assert.deepEqual(steps('editor-1'), diagnosis.steps, 'every step went out as it completed, in order');
  assert.match(log.lines().at(-1)!.text, /^diagnosis of ws:\/\/127\.0\.0\.1:\d+\/ssh to 127\.0\.0\.1:\d+: the path works$/);
});

test('Diagnose the active endpoint: a host the policy denies is named, with the log line', async (t) => {
  const { api, settings, wssh, steps, log } = await rig(t);
  const saved = settings.saveEndpoint({ name: 'Corp', uri: wssh.uri, user: '', keepaliveSec: 0, proxy: 'none' });
  assert.ok(saved.ok);
  settings.selectEndpoint(saved.value.id);
  const outcome = await api.diagnose({ run: 'status-1', target: 'db1.lan' });
  assert.ok(outcome.ok);
  const target = outcome.value.steps.at(-1)!;
  assert.equal(target.verdict, 'fail');
  assert.equal(target.cause, "the gateway's hosts.yml does not allow db1.lan");
  assert.equal(steps('status-1').length, outcome.value.steps.length);
  assert.equal(log.lines().at(-1)!.level, 'warn');
  assert.match(log.lines().at(-1)!.text, /broken at target: the gateway's hosts\.yml does not allow db1\.lan$/);
});

test("a dead custom proxy: the fix names the editor's Proxy field of that endpoint", async (t) => {
  const { api, wssh, banner } = await rig(t);
  const dead = await freePort();
  const endpoint: EndpointInput = { name: 'Office', uri: wssh.uri, user: '', keepaliveSec: 0, proxy: { url: `http://127.0.0.1:${dead}` } };
  const outcome = await api.diagnose({ run: 'r', endpoint, target: `127.0.0.1:${banner.port}` });
  assert.ok(outcome.ok);
  const tcp = outcome.value.steps.find((s) => s.step === 'tcp')!;
  assert.equal(tcp.verdict, 'fail');
  assert.equal(tcp.fix, "check the proxy's host and port in Endpoints ▸ Office ▸ Advanced ▸ Proxy");
  assert.equal(outcome.value.steps[0].answer, `Proxy: Custom URL: http://127.0.0.1:${dead}`);
});

test('no host, or an endpoint that cannot be used: refused with why, and no step is sent', async (t) => {
  const { api, events } = await rig(t);
  assert.deepEqual(await api.diagnose({ run: 'x', target: '' }), { ok: false, error: 'name the SSH host to reach, e.g. db1.lan or db1.lan:2222' });
  const broken: EndpointInput = { name: 'Corp', uri: 'https://gw.example.com/ssh', user: '', keepaliveSec: 0 };
  const refused = await api.diagnose({ run: 'z', endpoint: broken, target: 'db1.lan' });
  assert.equal(refused.ok, false);
  const endpoint: EndpointInput = { name: 'Corp', uri: 'ws://127.0.0.1:1/ssh', user: '', keepaliveSec: 0 };
  assert.deepEqual(await api.diagnose({ run: 'y', endpoint, target: ' ' }), { ok: false, error: 'name the SSH host to reach, e.g. db1.lan or db1.lan:2222' });
  assert.equal(events.filter(([event]) => event === 'diagnosis:step').length, 0);
});
