// Editing the settings, on `conf` (the library under electron-store) in a
// temp dir: secrets encrypted at rest, and the editor's operations, checked
// with the core's own parsers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseEndpoint } from '../../src/shared/endpoint';
import { checkTrustOptions, parsePin } from '../../src/core/dial/trust/trust';
import { parseProxyUrl } from '../../src/core/upstream/upstreamProxy';
import { tempDir } from '../fixtures/tmp';
import { openTestSettings, testCipher } from '../fixtures/appHarness';

const settingsFile = (dir: string) => path.join(dir, 'settings.json');

test('secrets are stored encrypted, never shown to the renderer, and survive a restart', async (t) => {
  const dir = tempDir(t);
  const cipher = testCipher();
  const first = await openTestSettings(dir, cipher);
  const saved = first.settings.saveEndpoint({ name: 'Gateway', uri: 'wss://gw.example.com/ssh/', user: 'bob', secret: 'hunter2', keepaliveSec: 20 });
  assert.ok(saved.ok);
  assert.deepEqual(saved.value, {
    id: saved.value.id,
    name: 'Gateway',
    uri: 'wss://gw.example.com/ssh',
    user: 'bob',
    hasSecret: true,
    keepaliveSec: 20,
    proxy: 'system',
    proxyAuth: { mode: 'windows' },
    hasProxySecret: false,
    proxyWindowsSignIn: false,
    trust: {},
    hasClientPassphrase: false,
    resume: true,
  });
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
  assert.ok(
    reopened.settings.saveEndpoint({ id: saved.value.id, name: 'Gateway 2', uri: 'wss://gw.example.com/ssh', user: 'bob', secret: '', keepaliveSec: 20 }).ok,
  );
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
  assert.deepEqual(
    settings.view().endpoints.map((e) => e.id),
    [original.id, copy2.value.id, copy.value.id],
  );

  assert.ok(settings.deleteEndpoint(original.id).ok);
  assert.equal(settings.view().activeEndpointId, copy2.value.id, 'the active endpoint moves to the first remaining');
  assert.ok(settings.restoreEndpoint(original.id).ok);
  assert.deepEqual(
    settings.view().endpoints.map((e) => e.id),
    [original.id, copy2.value.id, copy.value.id],
  );
  assert.equal(settings.view().activeEndpointId, original.id);
  assert.deepEqual(settings.restoreEndpoint(original.id), { ok: false, error: 'that endpoint can no longer be restored' });
  assert.deepEqual(changes, [2, 3, 2, 3]);
});

test('advanced settings: proxy and trust are saved, trimmed, and checked with the core’s parsers', async (t) => {
  const dir = tempDir(t);
  const { settings } = await openTestSettings(dir, testCipher());
  const pin = `sha256/${Buffer.alloc(32, 7).toString('base64')}`;
  const hexPin = Buffer.alloc(32, 9)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1:')
    .toUpperCase();
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
  const cleared = settings.saveEndpoint({
    id: saved.value.id,
    name: 'Corp',
    uri: 'wss://gw.example.com/ssh',
    user: '',
    keepaliveSec: 30,
    proxy: 'none',
    trust: {},
  });
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
  assert.deepEqual(settings.saveEndpoint({ ...base, trust: { pinOnly: true } }), {
    ok: false,
    error: 'pin only needs a pinned fingerprint: the one the certificate must have',
  });
  assert.deepEqual(settings.saveEndpoint({ ...base, trust: { servername: '10.0.0.1' } }), {
    ok: false,
    error: coreError(() => checkTrustOptions({ servername: '10.0.0.1' })),
  });
  assert.deepEqual(settings.saveEndpoint({ ...base, proxy: { url: 'socks5://p:1080' } }), {
    ok: false,
    error: coreError(() => parseProxyUrl('socks5://p:1080')),
  });
  assert.equal(settings.view().endpoints.length, 2, 'nothing invalid was saved (the default and Corp)');
});

test('issue 10: a stored secret does not follow an edited URI to another origin (Test and Save)', async (t) => {
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  const saved = settings.saveEndpoint({ name: 'Gateway', uri: 'wss://gw.example.com/ssh', user: 'bob', secret: 'hunter2', keepaliveSec: 20 });
  assert.ok(saved.ok);
  const id = saved.value.id;
  // Another path on the same origin: the secret stays, for Test and for Save.
  const samePlace = settings.resolveInput({ id, name: 'Gateway', uri: 'wss://gw.example.com/ssh2', user: 'bob', keepaliveSec: 20 });
  assert.ok(samePlace.ok);
  assert.equal(samePlace.value.endpoint.credentials?.secret, 'hunter2');
  // Another host, port or scheme: Test sends no secret (the renderer did not send one, so it may be misbehaving or stale).
  for (const uri of ['wss://evil.example/ssh', 'wss://gw.example.com:8443/ssh', 'ws://gw.example.com/ssh']) {
    const tested = settings.resolveInput({ id, name: 'Gateway', uri, user: 'bob', keepaliveSec: 20 });
    assert.ok(tested.ok);
    assert.notEqual(tested.value.endpoint.credentials?.secret, 'hunter2', uri);
  }
  // Save to another host drops the stored secret.
  const moved = settings.saveEndpoint({ id, name: 'Gateway', uri: 'wss://evil.example/ssh', user: 'bob', keepaliveSec: 20 });
  assert.ok(moved.ok);
  assert.equal(moved.value.hasSecret, false);
});

test('issue 10: the listen host must be an address or a host name (no line breaks)', async (t) => {
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  for (const host of ['127.0.0.1\r\nX-Evil: 1', 'local host', 'a/b', '-x']) {
    const r = settings.update({ listen: { host, port: 3122 } });
    assert.equal(r.ok, false, JSON.stringify(host));
  }
  assert.ok(settings.update({ listen: { host: '::1', port: 3122 } }).ok);
  assert.ok(settings.update({ listen: { host: 'localhost', port: 3122 } }).ok);
});

test('resume after a break (issue #20): on for a new endpoint, off kept by a save that does not name it, given to the tunnel and to Test', async (t) => {
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  const fields = { name: 'Gateway', uri: 'wss://gw.example.com/ssh', user: '', keepaliveSec: 20 };
  const saved = settings.saveEndpoint(fields);
  assert.ok(saved.ok);
  assert.equal(saved.value.resume, true);
  const off = settings.saveEndpoint({ ...fields, id: saved.value.id, resume: false });
  assert.ok(off.ok);
  assert.equal(off.value.resume, false);
  assert.equal(settings.stored().endpoints.find((e) => e.id === saved.value.id)?.resume, false, 'stored');
  // An edit that leaves it out (an older window, the profile import's update) keeps it.
  const renamed = settings.saveEndpoint({ ...fields, id: saved.value.id, name: 'Gateway 2' });
  assert.ok(renamed.ok);
  assert.equal(renamed.value.resume, false);
  settings.selectEndpoint(saved.value.id);
  const active = settings.activeEndpoint();
  assert.ok(active.ok);
  assert.equal(active.value.resume, false, 'the tunnel is told');
  // Test with the field as edited, or as stored when left out.
  const tested = settings.resolveInput({ ...fields, id: saved.value.id, resume: true });
  assert.ok(tested.ok);
  assert.equal(tested.value.resume, true);
  const asStored = settings.resolveInput({ ...fields, id: saved.value.id });
  assert.ok(asStored.ok);
  assert.equal(asStored.value.resume, false);
  // A duplicate keeps the choice.
  const copy = settings.duplicateEndpoint(saved.value.id);
  assert.ok(copy.ok);
  assert.equal(copy.value.resume, false);
});
