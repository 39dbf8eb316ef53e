// Importing an endpoint profile in the window (Debian's Chromium through
// playwright-core), against the bridge that runs the app's real WsshApi over
// real settings: a profile dropped on the window, and one that main offers
// (a .wssh file opened, a wssh:// link, found by main's own argv code). The
// confirmation shows every field; Cancel (or Escape) changes nothing; Import
// adds an endpoint that is not selected and starts no tunnel; an endpoint of
// the same URI is updated only when the user picks that.

import { test, before, after, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { Profile, formatProfile, profileLink } from '../../../src/core/dial/profile';
import { offersFromArgv } from '../../../src/main/settings/profileImport';
import { requireProgram } from '../../../scripts/harness/programs';
import { waitFor } from '../../fixtures/tunnel';
import { certificateTexts } from '../../../scripts/harness/tls';
import { tempDir } from '../../fixtures/tmp';
import { BridgedApp, SCREENSHOT_DIR, chromiumPath, launchChromium, openBridgedApp, serveRenderer } from '../../fixtures/rendererBridge';
import type { Page } from 'playwright-core';

let browser: Browser | undefined;
let site: Awaited<ReturnType<typeof serveRenderer>>;
let caPem = '';
let pin = '';

before(async () => {
  site = await serveRenderer();
  if (chromiumPath()) browser = await launchChromium();
  const texts = await certificateTexts('wssh-import-certs-');
  caPem = texts.caPem;
  pin = texts.pin.base64;
});
after(async () => {
  await browser?.close();
  await site.close();
});

async function open(t: TestContext): Promise<(BridgedApp & { dir: string }) | undefined> {
  if (!browser) {
    requireProgram(t, 'chromium', ['/usr/bin/chromium']);
    return undefined;
  }
  const dir = tempDir(t);
  const app = await openBridgedApp(browser, site.url, dir);
  t.after(() => app.close());
  return { ...app, dir };
}

function profileOf(change: Partial<Profile> = {}): Profile {
  return {
    name: 'Office gateway',
    uri: 'wss://gw.example.com/ssh',
    user: 'alice',
    proxy: { url: 'http://proxy.example.com:3128' },
    trust: { ca: [caPem], pins: [pin], pinOnly: true, servername: 'gw.example.com' },
    ...change,
  };
}

/** The window as the user sees it (a modal dialog: the viewport, not the full page). */
async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/** Drops a file with `text` on the window, as Explorer would. */
async function drop(app: BridgedApp, name: string, text: string): Promise<void> {
  await app.page.evaluate(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)}, { type: 'application/octet-stream' }));
    for (const type of ['dragenter', 'dragover', 'drop']) {
      document.querySelector('main').dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  })()`);
}

/** The confirmation's fields as label → text. */
async function fields(app: BridgedApp): Promise<Record<string, string>> {
  const labels = await app.page.locator('dialog .profile-fields dt').allInnerTexts();
  const values = await app.page.locator('dialog .profile-fields dd').allInnerTexts();
  return Object.fromEntries(labels.map((l, i) => [l, values[i].replace(/\s+/g, ' ').trim()]));
}

test('a dropped profile: the confirmation shows every field; Cancel and Escape change nothing', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page, settings } = app;
  const before = fs.readFileSync(settings.path, 'utf8');
  await drop(app, 'office.wssh', formatProfile(profileOf()));
  const dialog = page.getByRole('dialog', { name: 'Import endpoint profile' });
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /From the dropped file office\.wssh\./);
  const shown = await fields(app);
  assert.deepEqual(Object.keys(shown), ['Name', 'Endpoint URI', 'User', 'Proxy', 'CA certificates', 'Pinned fingerprints', 'Pin only', 'Server name (SNI)']);
  assert.equal(shown.Name, 'Office gateway');
  assert.equal(shown['Endpoint URI'], 'wss://gw.example.com/ssh');
  assert.equal(shown.User, 'alice (you type your own secret in the editor)');
  assert.equal(
    shown.Proxy,
    'http://proxy.example.com:3128 (your Windows sign-in is not sent to it unless you tick “Send my Windows sign-in to this proxy” in the editor)',
  );
  assert.match(shown['CA certificates'], /^CN=WSSH test CA issued by CN=WSSH test CA valid .+ GMT to .+ GMT sha256\/[A-Za-z0-9+/]+=*$/);
  assert.equal(shown['Pinned fingerprints'], pin);
  assert.match(shown['Pin only'], /^yes: the pin replaces the issuer and name checks/);
  assert.equal(shown['Server name (SNI)'], 'gw.example.com');
  assert.match(await dialog.innerText(), /It is not selected and no tunnel starts\./);
  assert.equal(await page.evaluate('document.activeElement.textContent'), 'Import', 'focus on the confirming button');
  await screenshot(page, 'profile-import');

  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(fs.readFileSync(settings.path, 'utf8'), before, 'Cancel changed nothing');
  await waitFor('announced', async () => (await page.locator('#announcer').innerText()) === 'Import canceled: nothing was changed.');

  // Escape is a cancel too.
  await drop(app, 'office.wssh', formatProfile(profileOf()));
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(fs.readFileSync(settings.path, 'utf8'), before, 'Escape changed nothing');
  assert.equal(settings.view().endpoints.length, 1);
  assert.deepEqual(app.problems, []);
});

test('Import adds the endpoint, not selected, no tunnel; the list shows it', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page, settings, controller } = app;
  const activeBefore = settings.view().activeEndpointId;
  await drop(app, 'office.wssh', formatProfile(profileOf()));
  const dialog = page.getByRole('dialog', { name: 'Import endpoint profile' });
  await dialog.getByRole('button', { name: 'Import' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await waitFor('imported', () => settings.view().endpoints.length === 2);
  const view = settings.view();
  assert.equal(view.activeEndpointId, activeBefore, 'not selected');
  assert.equal(controller.state().running, false, 'no tunnel started');
  const added = view.endpoints[1];
  assert.deepEqual([added.name, added.uri, added.user, added.hasSecret], ['Office gateway', 'wss://gw.example.com/ssh', 'alice', false]);
  assert.deepEqual(added.trust.pins, [pin]);
  assert.equal(fs.readFileSync(added.trust.caFile!, 'utf8'), caPem);
  await page.locator('body[data-view="endpoints"]').waitFor();
  await waitFor('in the list', async () => (await page.locator('.endpoint-item .endpoint-name').allInnerTexts()).includes('Office gateway'));
  await waitFor('announced', async () => /Endpoint “Office gateway” added\. It is not selected/.test(await page.locator('#announcer').innerText()));
  assert.deepEqual(app.problems, []);
});

test('a profile offered by main for an endpoint of the same URI: Add by default, Update only when chosen', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page, settings, dir } = app;
  const mine = await app.api.saveEndpoint({ name: 'Mine', uri: 'wss://gw.example.com/ssh', user: 'alice', secret: 's3cret', keepaliveSec: 45 });
  assert.ok(mine.ok);
  const before = fs.readFileSync(settings.path, 'utf8');

  // As main does for `WSSH.exe C:\...\office.wssh` and for a clicked link.
  fs.writeFileSync(path.join(dir, 'office.wssh'), formatProfile(profileOf({ name: 'Office (from IT)' })));
  const profiles = { settings, caDir: path.join(dir, 'profiles') };
  const [fromFile] = offersFromArgv(profiles, ['WSSH.exe', 'office.wssh'], dir);
  const [fromLink] = offersFromArgv(profiles, ['WSSH.exe', profileLink(profileOf({ name: 'Office (from IT)' }))], dir);
  const emit = (offer: unknown) => page.evaluate(`window.__wsshEmit('profile:offered', ${JSON.stringify(offer)})`);
  await emit(fromFile);
  const dialog = page.getByRole('dialog', { name: 'Import endpoint profile' });
  await dialog.waitFor();
  assert.match(await dialog.innerText(), new RegExp(`From the file ${path.join(dir, 'office.wssh').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\.`));
  assert.match(await dialog.innerText(), /An endpoint with this URI is already saved: “Mine”/);
  assert.equal(await page.getByLabel('Add as a new endpoint, keep “Mine” as it is').isChecked(), true, 'adding is the default');
  assert.equal(await page.getByLabel('Update “Mine” with these settings').isChecked(), false);
  // What the update changes, and that alice's secret would not follow the new proxy and trust.
  const details = await dialog.locator('#profile-import-update-details').innerText();
  assert.match(details, /Updating changes:\s+Name: Mine → Office \(from IT\)\s+Proxy: System \(Windows’ proxy settings\) → http:\/\/proxy\.example\.com:3128/);
  assert.match(details, /removes, so that they do not go where they never went .*\s+the stored secret of alice \(the proxy changes\)$/);
  await screenshot(page, 'profile-import-existing');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(fs.readFileSync(settings.path, 'utf8'), before);

  await emit(fromLink);
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /From a wssh:\/\/ link\./);
  await page.getByLabel('Update “Mine” with these settings').check();
  await dialog.getByRole('button', { name: 'Import' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await waitFor('updated', () => settings.view().endpoints.find((e) => e.id === mine.value.id)?.name === 'Office (from IT)');
  const view = settings.view();
  assert.equal(view.endpoints.length, 2, 'updated in place');
  const e = view.endpoints.find((x) => x.id === mine.value.id)!;
  assert.deepEqual([e.keepaliveSec, e.hasSecret], [45, false], 'the keepalive stays; the secret, for another proxy and trust, does not');
  assert.deepEqual(app.problems, []);
});

test('a bad profile dropped or offered: the reason, and nothing changed', async (t) => {
  const app = await open(t);
  if (!app) return;
  const { page, settings } = app;
  const before = fs.readFileSync(settings.path, 'utf8');
  const refusal = page.getByRole('dialog', { name: 'This profile cannot be imported' });
  const cases: Array<[string, string, RegExp]> = [
    ['notes.txt', 'Host *\n  User me\n', /^The dropped file notes\.txt: not a WSSH profile: not JSON/],
    [
      'newer.wssh',
      JSON.stringify({ wsshProfile: 2, name: 'x', uri: 'wss://gw/ssh' }),
      /^The dropped file newer\.wssh: made by a newer WSSH \(profile version 2; this one reads version 1\)/,
    ],
    [
      'pin.wssh',
      JSON.stringify({ wsshProfile: 1, name: 'x', uri: 'wss://gw/ssh', trust: { pins: ['AB:CD'] } }),
      /^The dropped file pin\.wssh: trust\.pins\[0\]: pin "AB:CD": expected/,
    ],
    [
      'pem.wssh',
      JSON.stringify({ wsshProfile: 1, name: 'x', uri: 'wss://gw/ssh', trust: { ca: [caPem.replace(/\n[A-Za-z0-9+/]{12}/, '\n############')] } }),
      /^The dropped file pem\.wssh: trust\.ca\[0\]: the PEM certificate is broken/,
    ],
    ['http.wssh', JSON.stringify({ wsshProfile: 1, name: 'x', uri: 'http://gw/ssh' }), /^The dropped file http\.wssh: uri: use ws:\/\/ instead of http:\/\//],
    ['huge.wssh', ' '.repeat(65 * 1024), /^The dropped file huge\.wssh: not a WSSH profile: larger than 64 KiB$/],
  ];
  for (const [name, text, expected] of cases) {
    await drop(app, name, text);
    await refusal.waitFor();
    assert.match(await refusal.getByRole('alert').innerText(), expected, name);
    assert.match(await refusal.innerText(), /Nothing was changed\./);
    if (name === 'newer.wssh') await screenshot(page, 'profile-import-refused');
    await refusal.getByRole('button', { name: 'Close' }).click();
    await refusal.waitFor({ state: 'hidden' });
  }
  // An oversized link, found by main's argv code.
  const [link] = offersFromArgv({ settings, caDir: path.join(app.dir, 'profiles') }, ['WSSH.exe', `wssh://import?profile=${'A'.repeat(17_000)}`], app.dir);
  await page.evaluate(`window.__wsshEmit('profile:offered', ${JSON.stringify(link)})`);
  await refusal.waitFor();
  assert.match(
    await refusal.getByRole('alert').innerText(),
    /^A wssh:\/\/ link: the link is 17022 characters long, more than the 16384 a profile link may have$/,
  );
  await refusal.getByRole('button', { name: 'Close' }).click();
  assert.equal(fs.readFileSync(settings.path, 'utf8'), before);
  assert.equal(settings.view().endpoints.length, 1);
  assert.deepEqual(app.problems, []);
});
