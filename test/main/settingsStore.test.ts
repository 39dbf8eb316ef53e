// Settings on `conf` (the library under electron-store) in a temp dir: first
// run, corrupt and schema-failing files set aside and reported, migrations,
// secrets encrypted at rest, and the editor's operations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseEndpoint } from '../../src/core/endpoint';
import { checkTrustOptions, parsePin } from '../../src/core/trust';
import { parseProxyUrl } from '../../src/core/upstreamProxy';
import { SETTINGS_VERSION } from '../../src/main/settingsSchema';
import { migrateSettings, MigrationError } from '../../src/main/settingsMigrations';
import { tempDir } from '../fixtures/tmp';
import { openTestSettings, testCipher } from '../fixtures/appHarness';

const fixedNow = () => new Date('2026-01-02T03:04:05Z');
const settingsFile = (dir: string) => path.join(dir, 'settings.json');

test('a first run has a working default endpoint and listens on 127.0.0.1:3122', async (t) => {
  const dir = tempDir(t);
  const { settings, notices } = await openTestSettings(dir, testCipher());
  assert.deepEqual(notices, []);
  const view = settings.view();
  assert.equal(view.endpoints.length, 1);
  assert.equal(view.endpoints[0].uri, 'ws://localhost:4567/ssh');
  assert.equal(view.activeEndpointId, view.endpoints[0].id);
  assert.deepEqual(view.listen, { host: '127.0.0.1', port: 3122 });
  assert.equal(view.startTunnelAtLaunch, false);
  const onDisk = JSON.parse(fs.readFileSync(settingsFile(dir), 'utf8'));
  assert.equal(onDisk.version, SETTINGS_VERSION);
  const active = settings.activeEndpoint();
  assert.ok(active.ok);
  assert.equal(active.value.endpoint.url, 'ws://localhost:4567/ssh');
  assert.equal(active.value.keepaliveMs, 30_000);
});

test('a file that is not JSON is kept aside, reported, and the defaults load', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(settingsFile(dir), '{"version": 2, "endpoints": [');
  const { settings, notices } = await openTestSettings(dir, testCipher(), { now: fixedNow });
  const backup = path.join(dir, 'settings.corrupt-20260102T030405Z.json');
  assert.equal(fs.readFileSync(backup, 'utf8'), '{"version": 2, "endpoints": [', 'the broken file is kept byte for byte');
  assert.equal(notices.length, 1);
  assert.match(notices[0].text, /not valid JSON/);
  assert.ok(notices[0].text.includes(backup), 'the notice says where the file went');
  assert.equal(settings.view().endpoints[0].uri, 'ws://localhost:4567/ssh');
});

test('a file that fails the schema is kept aside, reported, and the defaults load', async (t) => {
  const dir = tempDir(t);
  const bad = JSON.stringify({ version: SETTINGS_VERSION, endpoints: [], activeEndpointId: null, listen: { host: '127.0.0.1', port: 'lots' }, startTunnelAtLaunch: false, startAtLogin: false });
  fs.writeFileSync(settingsFile(dir), bad);
  const { settings, notices } = await openTestSettings(dir, testCipher(), { now: fixedNow });
  assert.equal(notices.length, 1);
  assert.match(notices[0].text, /does not match the settings schema/);
  assert.match(notices[0].text, /port/);
  assert.equal(fs.readFileSync(path.join(dir, 'settings.corrupt-20260102T030405Z.json'), 'utf8'), bad);
  assert.equal(settings.view().listen.port, 3122);
});

test('a file from a newer version is kept aside rather than misread', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(settingsFile(dir), JSON.stringify({ version: SETTINGS_VERSION + 1, endpoints: 'whatever' }));
  const { notices } = await openTestSettings(dir, testCipher(), { now: fixedNow });
  assert.match(notices[0].text, /newer version of WSSH/);
  assert.ok(fs.existsSync(path.join(dir, 'settings.corrupt-20260102T030405Z.json')));
});

test('version 1 migrates: credentials leave the URL, the secret is encrypted, the old file is kept', async (t) => {
  const dir = tempDir(t);
  const v1 = {
    endpoints: [
      { name: 'Office', url: 'wss://alice:s3cr%3At@gw.example.com/ssh' },
      { name: 'Lab', url: 'ws://lab:4567/ssh' },
    ],
    activeEndpoint: 'Lab',
    listenPort: 4000,
  };
  fs.writeFileSync(settingsFile(dir), JSON.stringify(v1));
  const cipher = testCipher();
  const { settings, notices } = await openTestSettings(dir, cipher);
  assert.deepEqual(notices, []);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'settings.v1.json'), 'utf8')), v1);
  const view = settings.view();
  assert.deepEqual(
    view.endpoints.map((e) => [e.name, e.uri, e.user, e.hasSecret, e.keepaliveSec]),
    [
      ['Office', 'wss://gw.example.com/ssh', 'alice', true, 30],
      ['Lab', 'ws://lab:4567/ssh', '', false, 30],
    ],
  );
  assert.equal(view.endpoints.find((e) => e.id === view.activeEndpointId)?.name, 'Lab');
  assert.deepEqual(view.listen, { host: '127.0.0.1', port: 4000 });
  const text = fs.readFileSync(settingsFile(dir), 'utf8');
  assert.ok(!text.includes('s3cr'), 'no plain secret on disk');
  settings.selectEndpoint(view.endpoints[0].id);
  const active = settings.activeEndpoint();
  assert.ok(active.ok);
  assert.deepEqual(active.value.endpoint.credentials, { user: 'alice', secret: 's3cr:t' });
  assert.equal(active.value.endpoint.display, 'wss://alice:***@gw.example.com/ssh');
});

test('migration without the OS key store drops the secret and says so', () => {
  const result = migrateSettings({ endpoints: [{ name: 'Office', url: 'wss://alice:pw@gw/ssh' }] }, { sealSecret: () => undefined });
  assert.equal(result.from, 1);
  assert.equal((result.settings.endpoints as Array<{ secret: string }>)[0].secret, '');
  assert.match(result.notes[0], /could not be stored encrypted/);
  assert.throws(() => migrateSettings([1, 2], { sealSecret: () => '' }), MigrationError);
  assert.throws(() => migrateSettings({ version: 'two' }, { sealSecret: () => '' }), /invalid version/);
});

test('secrets are stored encrypted, never shown to the renderer, and survive a restart', async (t) => {
  const dir = tempDir(t);
  const cipher = testCipher();
  const first = await openTestSettings(dir, cipher);
  const saved = first.settings.saveEndpoint({ name: 'Gateway', uri: 'wss://gw.example.com/ssh/', user: 'bob', secret: 'hunter2', keepaliveSec: 20 });
  assert.ok(saved.ok);
  assert.deepEqual(saved.value, { id: saved.value.id, name: 'Gateway', uri: 'wss://gw.example.com/ssh', user: 'bob', hasSecret: true, keepaliveSec: 20, proxy: 'system', proxyAuth: { mode: 'windows' }, hasProxySecret: false, trust: {}, hasClientPassphrase: false });
  assert.ok(!fs.readFileSync(settingsFile(dir), 'utf8').includes('hunter2'));
  assert.ok(!JSON.stringify(first.settings.view()).includes('hunter2'));

  // Saving again without a secret keeps it; '' removes it.
  assert.ok(first.settings.saveEndpoint({ id: saved.value.id, name: 'Gateway 2', uri: 'wss://gw.example.com/ssh', user: 'bob', keepaliveSec: 20 }).ok);
  const reopened = await openTestSettings(dir, cipher);
  reopened.settings.selectEndpoint(saved.value.id);
  const active = reopened.settings.activeEndpoint();
  assert.ok(active.ok);
  assert.equal(active.value.name, 'Gateway 2');
  assert.deepEqual(active.value.endpoint.credentials, { user: 'bob', secret: 'hunter2' });
  assert.ok(reopened.settings.saveEndpoint({ id: saved.value.id, name: 'Gateway 2', uri: 'wss://gw.example.com/ssh', user: 'bob', secret: '', keepaliveSec: 20 }).ok);
  assert.equal(reopened.settings.view().endpoints.find((e) => e.id === saved.value.id)?.hasSecret, false);
});

test('userinfo typed into the URI moves to the user and encrypted secret', async (t) => {
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  const saved = settings.saveEndpoint({ name: 'x', uri: 'wss://carol:p%40ss@gw/ssh', user: '', keepaliveSec: 30 });
  assert.ok(saved.ok);
  assert.equal(saved.value.uri, 'wss://gw/ssh');
  assert.equal(saved.value.user, 'carol');
  assert.equal(saved.value.hasSecret, true);
  const both = settings.saveEndpoint({ name: 'x', uri: 'wss://carol@gw/ssh', user: 'dave', keepaliveSec: 30 });
  assert.deepEqual(both, { ok: false, error: 'give the user either in the URI or in the User field, not both' });
});

test('without the OS key store a secret is refused, not stored in plain text', async (t) => {
  const dir = tempDir(t);
  const { settings } = await openTestSettings(dir, testCipher(false));
  const saved = settings.saveEndpoint({ name: 'x', uri: 'wss://gw/ssh', user: 'u', secret: 'pw', keepaliveSec: 30 });
  assert.deepEqual(saved, { ok: false, error: 'the OS key store is not available, so the secret cannot be stored safely' });
  assert.ok(!fs.readFileSync(settingsFile(dir), 'utf8').includes('"pw"'));
});

test('validation messages are the core parser’s own', async (t) => {
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  for (const uri of ['', 'https://gw/ssh', 'gw.example.com', 'wss://gw:99999/ssh', 'ftp://gw/']) {
    let expected = '';
    try {
      parseEndpoint(uri);
    } catch (err) {
      expected = (err as Error).message;
    }
    assert.notEqual(expected, '');
    assert.deepEqual(settings.saveEndpoint({ name: 'n', uri, user: '', keepaliveSec: 30 }), { ok: false, error: expected });
  }
  assert.deepEqual(settings.saveEndpoint({ name: '  ', uri: 'ws://a/ssh', user: '', keepaliveSec: 30 }), { ok: false, error: 'the endpoint needs a name' });
  assert.match((settings.saveEndpoint({ name: 'n', uri: 'ws://a/ssh', user: '', keepaliveSec: 1.5 }) as { error: string }).error, /keepalive/);
  assert.deepEqual(settings.update({ listen: { host: '127.0.0.1', port: 70000 } }), { ok: false, error: 'the listen port must be a number from 1 to 65535' });
});

test('duplicate, delete (the active one) and restore', async (t) => {
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  const changes: number[] = [];
  settings.on('changed', (v) => changes.push(v.endpoints.length));
  const original = settings.view().endpoints[0];
  const copy = settings.duplicateEndpoint(original.id);
  assert.ok(copy.ok);
  assert.equal(copy.value.name, 'Local WSSH server (copy)');
  assert.notEqual(copy.value.id, original.id);
  const copy2 = settings.duplicateEndpoint(original.id);
  assert.ok(copy2.ok);
  assert.equal(copy2.value.name, 'Local WSSH server (copy 2)');
  assert.deepEqual(settings.view().endpoints.map((e) => e.id), [original.id, copy2.value.id, copy.value.id]);

  assert.ok(settings.deleteEndpoint(original.id).ok);
  assert.equal(settings.view().activeEndpointId, copy2.value.id, 'the active endpoint moves to the first remaining');
  assert.ok(settings.restoreEndpoint(original.id).ok);
  assert.deepEqual(settings.view().endpoints.map((e) => e.id), [original.id, copy2.value.id, copy.value.id]);
  assert.equal(settings.view().activeEndpointId, original.id);
  assert.deepEqual(settings.restoreEndpoint(original.id), { ok: false, error: 'that endpoint can no longer be restored' });
  assert.deepEqual(changes, [2, 3, 2, 3]);
});

test('a dangling active id in a hand-edited file points at the first endpoint', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(
    settingsFile(dir),
    JSON.stringify({
      version: 2,
      endpoints: [{ id: 'a', name: 'A', uri: 'ws://a/ssh', user: '', secret: '', keepaliveSec: 0 }],
      activeEndpointId: 'gone',
      listen: { host: '127.0.0.1', port: 3122 },
      startTunnelAtLaunch: true,
      startAtLogin: false,
    }),
  );
  const { settings, notices } = await openTestSettings(dir, testCipher());
  assert.deepEqual(notices, []);
  assert.equal(settings.view().activeEndpointId, 'a');
  assert.equal(settings.view().startTunnelAtLaunch, true);
});

test('version 2 migrates to 3 and on to 4: endpoints get the system proxy, no trust settings, the Windows sign-in; the old file is kept', async (t) => {
  const dir = tempDir(t);
  const v2 = {
    version: 2,
    endpoints: [
      { id: 'a', name: 'A', uri: 'wss://gw.example.com/ssh', user: '', secret: '', keepaliveSec: 25 },
      { id: 'b', name: 'B', uri: 'ws://lab/ssh', user: '', secret: '', keepaliveSec: 0 },
    ],
    activeEndpointId: 'b',
    listen: { host: '127.0.0.1', port: 3300 },
    startTunnelAtLaunch: true,
    startAtLogin: false,
  };
  fs.writeFileSync(settingsFile(dir), JSON.stringify(v2));
  const { settings, notices } = await openTestSettings(dir, testCipher());
  assert.deepEqual(notices, []);
  assert.equal(SETTINGS_VERSION, 4);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'settings.v2.json'), 'utf8')), v2);
  const onDisk = JSON.parse(fs.readFileSync(settingsFile(dir), 'utf8'));
  assert.equal(onDisk.version, 4);
  assert.deepEqual(onDisk.endpoints, v2.endpoints.map((e) => ({ ...e, proxy: 'system', proxyAuth: { mode: 'windows' } })));
  const view = settings.view();
  assert.deepEqual(view.endpoints.map((e) => [e.id, e.proxy, e.trust, e.keepaliveSec]), [['a', 'system', {}, 25], ['b', 'system', {}, 0]]);
  assert.equal(view.activeEndpointId, 'b');
  assert.deepEqual(view.listen, { host: '127.0.0.1', port: 3300 });
  // The step alone, and version 1 through both steps.
  assert.deepEqual((migrateSettings(v2, { sealSecret: () => '' }).settings.endpoints as Array<{ proxy: string }>).map((e) => e.proxy), ['system', 'system']);
  const fromV1 = migrateSettings({ endpoints: [{ name: 'Old', url: 'ws://old/ssh' }] }, { sealSecret: () => '' });
  assert.equal(fromV1.settings.version, 4);
  assert.deepEqual(fromV1.settings.endpoints, [{ id: 'ep1', name: 'Old', uri: 'ws://old/ssh', user: '', secret: '', keepaliveSec: 30, proxy: 'system', proxyAuth: { mode: 'windows' } }]);
});

test('advanced settings: proxy and trust are saved, trimmed, and checked with the core’s parsers', async (t) => {
  const dir = tempDir(t);
  const { settings } = await openTestSettings(dir, testCipher());
  const pin = `sha256/${Buffer.alloc(32, 7).toString('base64')}`;
  const hexPin = Buffer.alloc(32, 9).toString('hex').replace(/(..)(?!$)/g, '$1:').toUpperCase();
  const saved = settings.saveEndpoint({
    name: 'Corp',
    uri: 'wss://gw.example.com/ssh',
    user: '',
    keepaliveSec: 30,
    proxy: { url: ' http://proxy.corp:3128 ' },
    trust: { caFile: ' C:\\certs\\corp.pem ', systemCa: true, pins: [pin, '', ` ${hexPin} `], pinOnly: false, servername: 'gw.internal' },
  });
  assert.ok(saved.ok, JSON.stringify(saved));
  assert.deepEqual(saved.value.proxy, { url: 'http://proxy.corp:3128' });
  assert.deepEqual(saved.value.trust, { caFile: 'C:\\certs\\corp.pem', systemCa: true, pins: [pin, hexPin], servername: 'gw.internal' });
  // Stored as shown, and given to the tunnel.
  const reopened = await openTestSettings(dir, testCipher());
  const stored = reopened.settings.stored().endpoints.find((e) => e.id === saved.value.id)!;
  assert.deepEqual(stored.trust, saved.value.trust);
  reopened.settings.selectEndpoint(saved.value.id);
  const active = reopened.settings.activeEndpoint();
  assert.ok(active.ok);
  assert.deepEqual([active.value.proxy, active.value.trust], [saved.value.proxy, saved.value.trust]);
  // Saving without advanced fields keeps them; 'none' and an empty trust clear them.
  assert.ok(settings.saveEndpoint({ id: saved.value.id, name: 'Corp 2', uri: 'wss://gw.example.com/ssh', user: '', keepaliveSec: 30 }).ok);
  assert.deepEqual(settings.view().endpoints.find((e) => e.id === saved.value.id)!.trust, saved.value.trust);
  const cleared = settings.saveEndpoint({ id: saved.value.id, name: 'Corp', uri: 'wss://gw.example.com/ssh', user: '', keepaliveSec: 30, proxy: 'none', trust: {} });
  assert.ok(cleared.ok);
  assert.deepEqual([cleared.value.proxy, cleared.value.trust], ['none', {}]);
  assert.equal('trust' in settings.stored().endpoints.find((e) => e.id === saved.value.id)!, false);

  const base = { name: 'x', uri: 'wss://gw/ssh', user: '', keepaliveSec: 30 };
  const coreError = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('no error');
  };
  assert.deepEqual(settings.saveEndpoint({ ...base, trust: { pins: ['sha256/abc'] } }), { ok: false, error: coreError(() => parsePin('sha256/abc')) });
  assert.deepEqual(settings.saveEndpoint({ ...base, trust: { pins: ['nope'] } }), { ok: false, error: coreError(() => parsePin('nope')) });
  assert.throws(() => checkTrustOptions({ pinOnly: true }), /pinOnly needs a pin/, 'the core’s rule the editor words for itself');
  assert.deepEqual(settings.saveEndpoint({ ...base, trust: { pinOnly: true } }), { ok: false, error: 'pin only needs a pinned fingerprint: the one the certificate must have' });
  assert.deepEqual(settings.saveEndpoint({ ...base, trust: { servername: '10.0.0.1' } }), { ok: false, error: coreError(() => checkTrustOptions({ servername: '10.0.0.1' })) });
  assert.deepEqual(settings.saveEndpoint({ ...base, proxy: { url: 'socks5://p:1080' } }), { ok: false, error: coreError(() => parseProxyUrl('socks5://p:1080')) });
  assert.equal(settings.view().endpoints.length, 2, 'nothing invalid was saved (the default and Corp)');
});
