// Opening the settings file, on `conf` (the library under electron-store) in
// a temp dir: a first run, corrupt and schema-failing files set aside and
// reported, migrations, and a hand-edited file repaired.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SETTINGS_VERSION } from '../../src/main/settings/settingsSchema';
import { migrateSettings, MigrationError } from '../../src/main/settings/settingsMigrations';
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
  const bad = JSON.stringify({
    version: SETTINGS_VERSION,
    endpoints: [],
    activeEndpointId: null,
    listen: { host: '127.0.0.1', port: 'lots' },
    startTunnelAtLaunch: false,
    startAtLogin: false,
  });
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
  // Kept, but without the secret in the clear (issue 10), and owner-only like the new file.
  const kept = JSON.parse(fs.readFileSync(path.join(dir, 'settings.v1.json'), 'utf8'));
  assert.deepEqual(kept, { ...v1, endpoints: [{ name: 'Office', url: 'wss://alice:***@gw.example.com/ssh' }, v1.endpoints[1]] });
  assert.equal(fs.statSync(path.join(dir, 'settings.v1.json')).mode & 0o777, 0o600);
  assert.equal(fs.statSync(settingsFile(dir)).mode & 0o777, 0o600);
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

test('version 2 migrates on to 5: endpoints get the system proxy, no trust settings, the Windows sign-in, resume on; the old file is kept', async (t) => {
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
  assert.equal(SETTINGS_VERSION, 5);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'settings.v2.json'), 'utf8')), v2);
  const onDisk = JSON.parse(fs.readFileSync(settingsFile(dir), 'utf8'));
  assert.equal(onDisk.version, 5);
  assert.deepEqual(
    onDisk.endpoints,
    v2.endpoints.map((e) => ({ ...e, proxy: 'system', proxyAuth: { mode: 'windows' }, resume: true })),
  );
  const view = settings.view();
  assert.deepEqual(
    view.endpoints.map((e) => [e.id, e.proxy, e.trust, e.keepaliveSec]),
    [
      ['a', 'system', {}, 25],
      ['b', 'system', {}, 0],
    ],
  );
  assert.equal(view.activeEndpointId, 'b');
  assert.deepEqual(view.listen, { host: '127.0.0.1', port: 3300 });
  // The step alone, and version 1 through both steps.
  assert.deepEqual(
    (migrateSettings(v2, { sealSecret: () => '' }).settings.endpoints as Array<{ proxy: string }>).map((e) => e.proxy),
    ['system', 'system'],
  );
  const fromV1 = migrateSettings({ endpoints: [{ name: 'Old', url: 'ws://old/ssh' }] }, { sealSecret: () => '' });
  assert.equal(fromV1.settings.version, 5);
  assert.deepEqual(fromV1.settings.endpoints, [
    { id: 'ep1', name: 'Old', uri: 'ws://old/ssh', user: '', secret: '', keepaliveSec: 30, proxy: 'system', proxyAuth: { mode: 'windows' }, resume: true },
  ]);
});

test('version 4 migrates to 5 (issue #20): every endpoint resumes its tunnels after a break, as a new one does; the old file is kept', async (t) => {
  const dir = tempDir(t);
  const v4 = {
    version: 4,
    endpoints: [
      { id: 'a', name: 'A', uri: 'wss://gw.example.com/ssh', user: '', secret: '', keepaliveSec: 25, proxy: 'system', proxyAuth: { mode: 'windows' } },
      {
        id: 'b',
        name: 'B',
        uri: 'ws://lab/ssh',
        user: '',
        secret: '',
        keepaliveSec: 0,
        proxy: 'none',
        proxyAuth: { mode: 'windows' },
        trust: { systemCa: true },
      },
    ],
    activeEndpointId: 'a',
    listen: { host: '127.0.0.1', port: 3122 },
    startTunnelAtLaunch: false,
    startAtLogin: false,
  };
  fs.writeFileSync(settingsFile(dir), JSON.stringify(v4));
  const { settings, notices } = await openTestSettings(dir, testCipher());
  assert.deepEqual(notices, []);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'settings.v4.json'), 'utf8')), v4, 'the old file is kept');
  const onDisk = JSON.parse(fs.readFileSync(settingsFile(dir), 'utf8'));
  assert.deepEqual(onDisk, { ...v4, version: 5, endpoints: v4.endpoints.map((e) => ({ ...e, resume: true })) });
  assert.deepEqual(
    settings.view().endpoints.map((e) => [e.id, e.resume]),
    [
      ['a', true],
      ['b', true],
    ],
  );
  const active = settings.activeEndpoint();
  assert.ok(active.ok);
  assert.equal(active.value.resume, true);
  // A first run's endpoint resumes too.
  const fresh = await openTestSettings(tempDir(t), testCipher());
  assert.deepEqual(
    fresh.settings.view().endpoints.map((e) => e.resume),
    [true],
  );
});

test('issue 10: a 0644 settings file becomes 0600; two backups in the same second keep both', async (t) => {
  const dir = tempDir(t);
  await openTestSettings(dir, testCipher(), { now: fixedNow });
  fs.chmodSync(settingsFile(dir), 0o644);
  await openTestSettings(dir, testCipher(), { now: fixedNow });
  assert.equal(fs.statSync(settingsFile(dir)).mode & 0o777, 0o600);
  fs.writeFileSync(settingsFile(dir), '{ broken');
  await openTestSettings(dir, testCipher(), { now: fixedNow });
  fs.writeFileSync(settingsFile(dir), '{ broken again');
  await openTestSettings(dir, testCipher(), { now: fixedNow });
  assert.equal(fs.readFileSync(path.join(dir, 'settings.corrupt-20260102T030405Z.json'), 'utf8'), '{ broken');
  assert.equal(fs.readFileSync(path.join(dir, 'settings.corrupt-20260102T030405Z-2.json'), 'utf8'), '{ broken again');
  assert.equal(fs.statSync(path.join(dir, 'settings.corrupt-20260102T030405Z-2.json')).mode & 0o777, 0o600);
});

test('issue 10: settings.json as a folder: set aside, reported, and the app starts with the defaults', async (t) => {
  const dir = tempDir(t);
  fs.mkdirSync(settingsFile(dir));
  const { settings, notices } = await openTestSettings(dir, testCipher(), { now: fixedNow });
  assert.equal(notices.length, 1);
  assert.match(notices[0].text, /it is a folder, not a file/);
  assert.ok(fs.statSync(path.join(dir, 'settings.corrupt-20260102T030405Z.json')).isDirectory());
  assert.equal(settings.view().endpoints.length, 1);
});
