// Importing endpoint profiles into the tray app's real settings (conf with the
// app's schema), through the WsshApi as main implements it: the preview shows
// everything and changes nothing, an import adds an endpoint that is never
// selected and starts no tunnel, an endpoint of the same URI is updated only
// when asked, a bad profile changes nothing; and the profiles the app finds
// on its command line (a .wssh file, a wssh:// link).

import { test, before, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Profile, formatProfile, parseProfile, profileLink } from '../../../src/core/dial/profile';
import { createAppApi } from '../../../src/main/window/appApi';
import { loadTrust } from '../../../src/main/settings/endpointOptions';
import { offersFromArgv, profilesFromArgv } from '../../../src/main/settings/profileImport';
import { openTestController } from '../../fixtures/appHarness';
import { certificateTexts } from '../../../scripts/harness/tls';
import { tempDir } from '../../fixtures/tmp';

let caPem = '';
let pin = '';

before(async () => {
  const texts = await certificateTexts('wssh-import-certs-');
  caPem = texts.caPem;
  pin = texts.pin.base64;
});

function profile(change: Partial<Profile> = {}): string {
  return formatProfile({
    name: 'Office gateway',
    uri: 'wss://gw.example.com/ssh',
    user: 'alice',
    proxy: 'none',
    trust: { ca: [caPem], pins: [pin], pinOnly: false, servername: 'gw.example.com' },
    ...change,
  });
}

async function setup(t: TestContext) {
  const { dir, settings, log, controller } = await openTestController(t);
  t.after(() => controller.stop(0));
  const api = createAppApi({ settings, controller, log, clipboard: { writeText: () => {} }, chooseSavePath: async () => undefined });
  const file = () => fs.readFileSync(settings.path, 'utf8');
  return { dir, api, settings, controller, log, file };
}

test('the preview shows every field and changes nothing', async (t) => {
  const { api, file } = await setup(t);
  const before = file();
  const preview = await api.previewProfile(profile(), 'the dropped file office.wssh');
  assert.ok(preview.ok, JSON.stringify(preview));
  const { text, ca, ...fields } = preview.value;
  assert.equal(text, profile());
  assert.deepEqual(fields, {
    source: 'the dropped file office.wssh',
    name: 'Office gateway',
    uri: 'wss://gw.example.com/ssh',
    user: 'alice',
    proxy: 'none',
    pins: [pin],
    pinOnly: false,
    servername: 'gw.example.com',
    resume: true,
    existing: null,
  });
  assert.equal(ca.length, 1);
  assert.equal(ca[0].subject, 'CN=WSSH test CA');
  assert.match(ca[0].fingerprint, /^sha256\//);
  assert.equal(file(), before, 'the settings file is untouched');
});

test('an import adds the endpoint with its trust, never selects it, starts no tunnel', async (t) => {
  const { dir, api, settings, controller, log } = await setup(t);
  const activeBefore = settings.view().activeEndpointId;
  const imported = await api.importProfile({ text: profile(), source: 'the file office.wssh', mode: 'add' });
  assert.ok(imported.ok, JSON.stringify(imported));
  const view = settings.view();
  assert.equal(view.endpoints.length, 2);
  assert.equal(view.activeEndpointId, activeBefore, 'the active endpoint is unchanged');
  assert.equal(controller.state().running, false, 'no tunnel started');
  const added = view.endpoints[1];
  const caFile = added.trust.caFile!;
  assert.deepEqual(
    { ...added, id: '' },
    {
      id: '',
      name: 'Office gateway',
      uri: 'wss://gw.example.com/ssh',
      user: 'alice',
      hasSecret: false,
      keepaliveSec: 30,
      proxy: 'none',
      // A profile carries no proxy sign-in or client certificate: the defaults.
      proxyAuth: { mode: 'windows' },
      hasProxySecret: false,
      hasClientPassphrase: false,
      trust: { caFile, pins: [pin], servername: 'gw.example.com' },
      resume: true,
    },
  );
  // The CA lives in the app's data folder, where the tunnel reads it.
  assert.equal(path.dirname(caFile), path.join(dir, 'profiles'));
  assert.equal(fs.readFileSync(caFile, 'utf8'), caPem);
  assert.equal((await loadTrust(added.trust)).ca, caPem);
  assert.match(log.lines().at(-1)!.text, /endpoint "Office gateway" added from the profile in the file office\.wssh .*it is not selected/);

  // With no endpoint at all, an import still selects nothing.
  await api.deleteEndpoint(view.endpoints[0].id);
  await api.deleteEndpoint(added.id);
  assert.equal(settings.view().activeEndpointId, null);
  assert.ok((await api.importProfile({ text: profile(), source: 'x', mode: 'add' })).ok);
  assert.equal(settings.view().activeEndpointId, null, 'an import never makes its endpoint active');
});

test("an endpoint of the same URI is updated only when asked, keeping what is the user's", async (t) => {
  const { api, settings, file } = await setup(t);
  const saved = await api.saveEndpoint({
    name: 'Mine',
    uri: 'wss://gw.example.com/ssh/',
    user: 'alice',
    secret: 's3cret',
    keepaliveSec: 45,
    trust: { systemCa: true },
  });
  assert.ok(saved.ok);
  await api.selectEndpoint(saved.value.id);

  const preview = await api.previewProfile(profile({ name: 'Office (new)' }), 'a wssh:// link');
  assert.ok(preview.ok);
  assert.deepEqual(preview.value.existing, { id: saved.value.id, name: 'Mine' });

  // 'update' must name that endpoint; anything else is refused and changes nothing.
  const before = file();
  const wrong = await api.importProfile({ text: profile(), source: 'a link', mode: 'update', updateId: 'someone-else' });
  assert.deepEqual(wrong, { ok: false, error: 'no saved endpoint with the URI wss://gw.example.com/ssh to update (it was changed or deleted meanwhile)' });
  const bogus = await api.importProfile({ text: profile(), source: 'a link', mode: 'replace' as never });
  assert.equal(bogus.ok, false);
  assert.equal(file(), before);

  const updated = await api.importProfile({ text: profile({ name: 'Office (new)' }), source: 'a link', mode: 'update', updateId: saved.value.id });
  assert.ok(updated.ok, JSON.stringify(updated));
  const view = settings.view();
  assert.equal(view.endpoints.length, 2, 'updated in place, not added');
  const e = view.endpoints.find((x) => x.id === saved.value.id)!;
  assert.equal(e.name, 'Office (new)');
  assert.equal(e.keepaliveSec, 45, 'the keepalive stays');
  assert.equal(e.hasSecret, true, 'the same user keeps their stored secret');
  assert.equal(e.trust.systemCa, true, "the machine's own trust choice stays");
  assert.deepEqual(e.trust.pins, [pin]);
  assert.equal(view.activeEndpointId, saved.value.id);

  // A profile for another user drops the stored secret (it was alice's).
  const bob = await api.importProfile({ text: profile({ user: 'bob' }), source: 'a link', mode: 'update', updateId: saved.value.id });
  assert.ok(bob.ok);
  assert.deepEqual([bob.value.user, bob.value.hasSecret], ['bob', false]);

  // 'add' beside an endpoint of the same URI adds a second one.
  const added = await api.importProfile({ text: profile(), source: 'a link', mode: 'add' });
  assert.ok(added.ok);
  assert.equal(settings.view().endpoints.length, 3);
});

test('a bad profile is refused with what and where, and changes nothing', async (t) => {
  const { api, file, log } = await setup(t);
  const before = file();
  const cases: Array<[string, RegExp]> = [
    ['Host *', /^the dropped file x\.wssh: not a WSSH profile: not JSON/],
    [JSON.stringify({ wsshProfile: 3, name: 'x', uri: 'wss://gw/ssh' }), /made by a newer WSSH \(profile version 3/],
    [JSON.stringify({ wsshProfile: 1, name: 'x', uri: 'wss://gw/ssh', password: 'x' }), /password: a profile never holds a secret/],
    [JSON.stringify({ wsshProfile: 1, name: 'x', uri: 'https://gw/ssh' }), /uri: use wss:\/\/ instead of https:\/\//],
    [
      JSON.stringify({ wsshProfile: 1, name: 'x', uri: 'wss://gw/ssh', trust: { ca: ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'] } }),
      /trust\.ca\[0\]: the PEM certificate is broken/,
    ],
    [JSON.stringify({ wsshProfile: 1, name: 'x', uri: 'wss://gw/ssh', trust: { pins: ['nope'] } }), /trust\.pins\[0\]: pin "nope"/],
  ];
  for (const [text, expected] of cases) {
    const preview = await api.previewProfile(text, 'the dropped file x.wssh');
    assert.ok(!preview.ok && expected.test(preview.error), `${text} -> ${JSON.stringify(preview)}`);
    const imported = await api.importProfile({ text, source: 'the dropped file x.wssh', mode: 'add' });
    assert.ok(!imported.ok && expected.test(imported.error), `${text} -> ${JSON.stringify(imported)}`);
  }
  assert.equal(file(), before);
  assert.match(log.lines().at(-1)!.text, /^profile not imported: /);
});

test('profiles on the command line: a .wssh file and a wssh:// link; other arguments ignored', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'office.wssh'), profile());
  fs.writeFileSync(path.join(dir, 'huge.wssh'), ' '.repeat(65 * 1024));
  const link = profileLink(parseProfile(profile()));
  const found = profilesFromArgv(
    [
      '--hidden',
      '--allow-file-access-from-files',
      'office.wssh',
      link,
      'missing.WSSH',
      'huge.wssh',
      'notes.txt',
      'wssh://import?profile=' + 'A'.repeat(20_000),
    ],
    dir,
  );
  assert.deepEqual(found, [
    { ok: true, text: profile(), source: `the file ${path.join(dir, 'office.wssh')}` },
    { ok: true, text: profile().trimEnd(), source: 'a wssh:// link' },
    { ok: false, source: `the file ${path.join(dir, 'missing.WSSH')}`, error: 'cannot read it (ENOENT)' },
    { ok: false, source: `the file ${path.join(dir, 'huge.wssh')}`, error: 'not a WSSH profile: larger than 64 KiB' },
    { ok: false, source: 'a wssh:// link', error: 'the link is 20022 characters long, more than the 16384 a profile link may have' },
  ]);
});

test('offers from argv: argv[0] is the program; a good profile is previewed against the settings', async (t) => {
  const { settings, dir } = await setup(t);
  fs.writeFileSync(path.join(dir, 'office.wssh'), profile());
  const offers = offersFromArgv(settings, [path.join(dir, 'WSSH.exe'), 'office.wssh', 'wssh://import?profile=!!'], dir);
  assert.equal(offers.length, 2);
  assert.ok(offers[0].ok && offers[0].preview.name === 'Office gateway' && offers[0].preview.existing === null);
  assert.deepEqual(offers[1], { ok: false, source: 'a wssh:// link', error: "the link's profile is not base64url" });
});
