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
import { certificateTexts, fingerprintOf, makeSelfSigned } from '../../../scripts/harness/tls';
import { startHostileProxy } from '../../fixtures/hostileProxy';
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
      proxyWindowsSignIn: false,
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

  // The same proxy and trust (the machine's own Windows store stays): only the name changes, nothing is dropped.
  const same = profile({ name: 'Office (new)', proxy: 'system', trust: { ca: [], pins: [], pinOnly: false } });
  const preview = await api.previewProfile(same, 'a wssh:// link');
  assert.ok(preview.ok);
  assert.deepEqual(preview.value.existing, {
    id: saved.value.id,
    name: 'Mine',
    changes: [{ label: 'Name', from: 'Mine', to: 'Office (new)' }],
    dropped: [],
  });

  // 'update' must name that endpoint; anything else is refused and changes nothing.
  const before = file();
  const wrong = await api.importProfile({ text: profile(), source: 'a link', mode: 'update', updateId: 'someone-else' });
  assert.deepEqual(wrong, { ok: false, error: 'no saved endpoint with the URI wss://gw.example.com/ssh to update (it was changed or deleted meanwhile)' });
  const bogus = await api.importProfile({ text: profile(), source: 'a link', mode: 'replace' as never });
  assert.equal(bogus.ok, false);
  assert.equal(file(), before);

  const renamed = await api.importProfile({ text: same, source: 'a link', mode: 'update', updateId: saved.value.id });
  assert.ok(renamed.ok, JSON.stringify(renamed));
  assert.deepEqual([renamed.value.name, renamed.value.hasSecret], ['Office (new)', true], 'the same user, proxy and trust keep the stored secret');

  // Another proxy and TLS trust: the stored secret would go where it never went, so it is dropped, and the preview says so first.
  const moved = await api.previewProfile(profile({ name: 'Office (new)' }), 'a wssh:// link');
  assert.ok(moved.ok && moved.value.existing);
  assert.deepEqual(
    moved.value.existing.changes.map((c) => c.label),
    ['Proxy', 'TLS trust'],
  );
  assert.deepEqual(moved.value.existing.changes[0], { label: 'Proxy', from: 'System (Windows’ proxy settings)', to: 'None (always direct)' });
  assert.deepEqual(moved.value.existing.dropped, ['the stored secret of alice (the proxy changes)']);
  const updated = await api.importProfile({ text: profile({ name: 'Office (new)' }), source: 'a link', mode: 'update', updateId: saved.value.id });
  assert.ok(updated.ok, JSON.stringify(updated));
  const view = settings.view();
  assert.equal(view.endpoints.length, 2, 'updated in place, not added');
  const e = view.endpoints.find((x) => x.id === saved.value.id)!;
  assert.equal(e.name, 'Office (new)');
  assert.equal(e.keepaliveSec, 45, 'the keepalive stays');
  assert.equal(e.hasSecret, false, 'the stored secret is dropped');
  assert.equal(e.trust.systemCa, true, "the machine's own trust choice stays");
  assert.deepEqual(e.trust.pins, [pin]);
  assert.equal(view.activeEndpointId, saved.value.id);
  // With the same proxy and trust again, a secret typed since stays.
  assert.ok((await api.saveEndpoint({ ...e, secret: 's3cret' })).ok);
  const again = await api.importProfile({ text: profile({ name: 'Office (new)' }), source: 'a link', mode: 'update', updateId: saved.value.id });
  assert.ok(again.ok && again.value.hasSecret);

  // A profile for another user drops the stored secret (it was alice's).
  const bob = await api.importProfile({ text: profile({ user: 'bob' }), source: 'a link', mode: 'update', updateId: saved.value.id });
  assert.ok(bob.ok);
  assert.deepEqual([bob.value.user, bob.value.hasSecret], ['bob', false]);

  // 'add' beside an endpoint of the same URI adds a second one.
  const added = await api.importProfile({ text: profile(), source: 'a link', mode: 'add' });
  assert.ok(added.ok);
  assert.equal(settings.view().endpoints.length, 3);
});

test('a crafted link names my endpoint with its own proxy and pinned certificate: after Update, my stored secrets stay home (issue 24)', async (t) => {
  const { api, settings, dir } = await setup(t);
  // The sender's proxy holds the certificate its link pins: it terminates TLS and reads what the tunnel sends inside.
  const stolen = await makeSelfSigned(dir, 'attacker', ['DNS:gw.example.com']);
  const attacker = await startHostileProxy(t, { accept: () => true, tls: { cert: fs.readFileSync(stolen.cert), key: fs.readFileSync(stolen.key) } });
  const mine = await api.saveEndpoint({
    name: 'Mine',
    uri: 'wss://gw.example.com/ssh',
    user: 'alice',
    secret: 's3cret',
    keepaliveSec: 30,
    proxy: { url: 'http://proxy.corp.example:3128' },
    proxyAuth: { mode: 'password', user: 'bob' },
    proxySecret: 'proxy-pw',
  });
  assert.ok(mine.ok, JSON.stringify(mine));
  const link = profileLink({
    name: 'Office gateway',
    uri: 'wss://gw.example.com/ssh',
    user: 'alice',
    proxy: { url: attacker.url },
    trust: { ca: [], pins: [fingerprintOf(stolen.cert).base64], pinOnly: true },
  });

  // The app opened with the link: the dialog says what the update drops; the user picks "Update" and Import.
  const [offer] = offersFromArgv({ settings, caDir: path.join(dir, 'profiles') }, ['WSSH.exe', link], dir);
  assert.ok(offer.ok && offer.preview.existing, JSON.stringify(offer));
  assert.deepEqual(offer.preview.existing.dropped, [
    'the stored secret of alice (the proxy changes)',
    'the proxy sign-in as bob and its password (saved for http://proxy.corp.example:3128)',
  ]);
  const updated = await api.importProfile({ text: offer.preview.text, source: offer.preview.source, mode: 'update', updateId: mine.value.id });
  assert.ok(updated.ok, JSON.stringify(updated));

  // The next tunnel, as the editor's Test opens it with the endpoint as saved.
  const e = updated.value;
  await api.testEndpoint({
    endpoint: { id: e.id, name: e.name, uri: e.uri, user: e.user, keepaliveSec: e.keepaliveSec, proxy: e.proxy, proxyAuth: e.proxyAuth, trust: e.trust },
    target: 'db1',
  });
  assert.equal(attacker.inside.length, 1, "the tunnel went through the sender's proxy, which read the upgrade inside its TLS");
  assert.deepEqual(attacker.credentials(), [], 'no proxy password for the sender');
  const basic = /^authorization: basic (\S+)/im.exec(attacker.inside[0])?.[1];
  assert.equal(basic && Buffer.from(basic, 'base64').toString(), 'alice:', "the profile's user, and no gateway secret, inside the sender's TLS");
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

test("a profile on the command line: the one .wssh file or wssh:// link the app was opened with; Chromium's switches ignored", (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'office.wssh'), profile());
  fs.writeFileSync(path.join(dir, 'huge.wssh'), ' '.repeat(65 * 1024));
  const link = profileLink(parseProfile(profile()));
  const found = (arg: string) => profilesFromArgv(['--hidden', '--allow-file-access-from-files', arg], dir);
  assert.deepEqual(found('office.wssh'), [{ ok: true, text: profile(), source: `the file ${path.join(dir, 'office.wssh')}` }]);
  assert.deepEqual(found(link), [{ ok: true, text: profile().trimEnd(), source: 'a wssh:// link' }]);
  assert.deepEqual(found('missing.WSSH'), [{ ok: false, source: `the file ${path.join(dir, 'missing.WSSH')}`, error: 'cannot read it (ENOENT)' }]);
  assert.deepEqual(found('huge.wssh'), [{ ok: false, source: `the file ${path.join(dir, 'huge.wssh')}`, error: 'not a WSSH profile: larger than 64 KiB' }]);
  assert.deepEqual(found('notes.txt'), []);
  assert.deepEqual(found('wssh://import?profile=' + 'A'.repeat(20_000)), [
    { ok: false, source: 'a wssh:// link', error: 'the link is 20022 characters long, more than the 16384 a profile link may have' },
  ]);
});

test('an argument injected beside the link, and a profile on a network share: nothing is opened (issue 24)', (t) => {
  const dir = tempDir(t);
  // What the app would open: a UNC path makes Windows sign in to that server (SMB) with the user's identity.
  const opened: string[] = [];
  const readFile = (file: string) => (opened.push(file), Buffer.from(profile()));
  const statSize = (file: string) => (opened.push(file), 100);
  const link = profileLink(parseProfile(profile()));
  for (const unc of ['\\\\attacker.example\\share\\x.wssh', '//attacker.example/share/x.wssh', '\\\\?\\UNC\\attacker.example\\share\\x.wssh']) {
    // A crafted link that broke the command line's quoting: the link and an injected path.
    const injected = profilesFromArgv([link, unc], dir, readFile, statSize);
    assert.deepEqual(injected, [
      {
        ok: false,
        source: 'the command line',
        error:
          'WSSH was started with 2 arguments, and reads a profile only when opened with one (a double-clicked .wssh file, a clicked wssh:// link): none was read',
      },
    ]);
    // The path alone (as the file association would pass it).
    assert.deepEqual(profilesFromArgv([unc], dir, readFile, statSize), [
      {
        ok: false,
        source: `the file ${unc}`,
        error: 'a profile on a network share is not opened (that would sign you in to its server): copy it to this computer first',
      },
    ]);
  }
  // A relative name in a working folder on a share (a second start from there).
  assert.equal(profilesFromArgv(['office.wssh'], '//attacker.example/share', readFile, statSize)[0].ok, false);
  assert.deepEqual(opened, [], 'nothing was opened');
});

test('offers from argv: the program (and its folder in a development run) come first; a good profile is previewed against the settings', async (t) => {
  const { settings, dir } = await setup(t);
  fs.writeFileSync(path.join(dir, 'office.wssh'), profile());
  const deps = { settings, caDir: path.join(dir, 'profiles') };
  const [offer] = offersFromArgv(deps, [path.join(dir, 'WSSH.exe'), 'office.wssh'], dir);
  assert.ok(offer.ok && offer.preview.name === 'Office gateway' && offer.preview.existing === null);
  assert.deepEqual(offersFromArgv(deps, ['electron', '.', 'wssh://import?profile=!!'], dir, 2), [
    { ok: false, source: 'a wssh:// link', error: "the link's profile is not base64url" },
  ]);
  assert.deepEqual(offersFromArgv(deps, ['electron', '.'], dir, 2), []);
});
