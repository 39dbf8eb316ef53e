// Diagnose in Debian's Chromium, against the bridge to the real WsshApi, a
// real WSSH server in this process and a TCP server that greets like sshd:
// on the Status view (the active endpoint) and in the endpoint editor beside
// Test (the endpoint as typed), a list that fills in as each step completes
// (the answer of the call itself held back until every step is on the
// page), the failed step's cause and fix; and the Log view opening the log
// folder. Screenshots for docs/tray-app.md go to test-results/renderer/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../../scripts/harness/ports';
import { waitFor } from '../../fixtures/tunnel';
import { SCREENSHOT_DIR, rendererRig, screenshot, settled } from '../../fixtures/rendererBridge';

const rig = rendererRig();

/** Each row of a list as `VERDICT Step`, e.g. `ok Route`. */
const rows = async (list: import('playwright-core').Locator) =>
  (await list
    .locator('li.step')
    .evaluateAll((items) => items.map((li) => `${li.querySelector('.verdict')!.textContent} ${li.querySelector('.step-name')!.textContent}`))) as string[];

test('Diagnose on the Status view: the steps fill in one by one, then the verdict; a denied host names hosts.yml', async (t) => {
  let release: () => void = () => {};
  let held = false;
  const app = await rig.open(t, {
    // The call's own answer waits until the test lets it go: the list must fill in from the step events alone.
    answer: (method) => {
      if (method !== 'diagnose' || !held) return;
      return new Promise<void>((resolve) => (release = resolve));
    },
  });
  if (!app) return;
  const { page, settings } = app;
  const saved = settings.saveEndpoint({ name: 'Office', uri: rig.wssh.uri, user: '', keepaliveSec: 0, proxy: 'none' });
  assert.ok(saved.ok);
  settings.selectEndpoint(saved.value.id);
  await settled(page);

  const list = page.locator('#status-diagnosis-steps');
  const summary = page.locator('#status-diagnosis-summary');
  held = true;
  await page.getByLabel('SSH host to diagnose').fill(`127.0.0.1:${rig.sshd.port}`);
  await page.locator('#status-diagnose').click();
  await waitFor('every step on the page before the call answered', async () => (await rows(list)).length === 5);
  assert.match(await summary.innerText(), /^Diagnosing the path to 127\.0\.0\.1:\d+$/);
  assert.equal(await page.locator('#status-diagnose').isDisabled(), true, 'one run at a time');
  held = false;
  release();
  await summary.locator('text=/The path works/').waitFor();
  assert.deepEqual(await rows(list), ['ok Route', 'skip DNS', 'ok TCP', 'ok Upgrade', 'ok Target']);
  assert.match(await list.locator('li[data-step="target"] .answer').innerText(), /^allowed; "SSH-2\.0-OpenSSH_9\.2p1 Debian-2\+deb12u3" after \d+ ms$/);
  await screenshot(page, 'status-diagnose-ok');

  await page.getByLabel('SSH host to diagnose').fill('db1.lan');
  await page.locator('#status-diagnose').click();
  await summary.locator('text=/^Broken at Target/').waitFor();
  assert.equal(await summary.innerText(), "Broken at Target: the gateway's hosts.yml does not allow db1.lan");
  const failed = list.locator('li.verdict-fail');
  assert.equal(await failed.count(), 1);
  assert.match(await failed.locator('.cause').innerText(), /^Cause: the gateway's hosts\.yml does not allow db1\.lan$/);
  assert.match(await failed.locator('.fix').innerText(), /^Fix: check the host name; ask the gateway's admin to allow db1\.lan in hosts\.yml$/);
  await screenshot(page, 'status-diagnose-denied');
  // The section alone, for the guide.
  await page.locator('section[aria-labelledby="diagnose-title"]').screenshot({ path: path.join(SCREENSHOT_DIR, 'status-diagnose.png') });
  assert.deepEqual(app.problems, []);
});

test('Diagnose in the editor, beside Test: the endpoint as typed; a closed port is the TCP step, with the fix', async (t) => {
  const app = await rig.open(t);
  if (!app) return;
  const { page } = app;
  await page.getByRole('tab', { name: 'Endpoints' }).click();
  const closed = await freePort();
  await page.getByLabel('Endpoint URI').fill(`ws://127.0.0.1:${closed}/ssh`);
  await page.getByLabel('SSH host to reach').fill('db1.lan');
  await page.getByRole('button', { name: 'Diagnose' }).click();
  const list = page.locator('#ep-diagnosis-steps');
  await page.locator('#ep-diagnosis-summary', { hasText: 'Broken at TCP' }).waitFor();
  assert.deepEqual(await rows(list), ['ok Route', 'skip DNS', 'FAIL TCP', 'skip Upgrade', 'skip Target']);
  const tcp = list.locator('li[data-step="tcp"]');
  assert.match(await tcp.innerText(), new RegExp(`TCP to 127\\.0\\.0\\.1:${closed} \\(the gateway\\): connection refused`));
  assert.match(await tcp.locator('.cause').innerText(), new RegExp(`nothing listens on 127\\.0\\.0\\.1:${closed}`));
  await screenshot(page, 'endpoints-diagnose');
  await page.locator('fieldset.test').screenshot({ path: path.join(SCREENSHOT_DIR, 'endpoints-diagnose-panel.png') });
  // The same endpoint, reachable: Test and Diagnose agree.
  await page.getByLabel('Endpoint URI').fill(rig.wssh.uri);
  await page.getByLabel('SSH host to reach').fill(`127.0.0.1:${rig.sshd.port}`);
  await page.getByRole('button', { name: 'Diagnose' }).click();
  await page.locator('#ep-diagnosis-summary', { hasText: 'The path works' }).waitFor();
  assert.deepEqual(app.problems, []);
});

test('the Log view opens the folder where the log files are, and saves the diagnostics file', async (t) => {
  const app = await rig.open(t);
  if (!app) return;
  const { page } = app;
  await page.getByRole('tab', { name: 'Log' }).click();
  await page.getByRole('button', { name: 'Open log folder' }).click();
  await page.locator('#log-folder-message', { hasText: 'Opened' }).waitFor();
  assert.equal(app.opened.length, 1);
  assert.match(await page.locator('#log-folder-message').innerText(), /^Opened .*logs\.$/);

  await page.locator('#log-save-diagnostics').click();
  const message = page.locator('#log-save-diagnostics-message');
  await message.locator('text=/^Saved /').waitFor();
  const file = /^Saved (.*): send it to your admin\.$/.exec(await message.innerText())![1];
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /^WSSH diagnostics, written by the WSSH tray app at /);
  assert.match(text, /^== Endpoints\nLocal WSSH server \(active\): ws:\/\/localhost:4567\/ssh$/m);
  assert.match(text, /^== The last \d+ log lines$/m);
  await screenshot(page, 'log-save-diagnostics');
});
