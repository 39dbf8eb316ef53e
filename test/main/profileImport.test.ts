// A profile's `"resume": false` (issue #20) through the app's import: the
// preview says so, an added endpoint has resume off, an update takes the
// profile's off, and a profile without the field leaves an updated endpoint's
// own choice alone. (The rest of the import, with certificates made by
// openssl, is test/e2e/app/profileImport.test.ts.)

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { formatProfile, type Profile } from '../../src/core/dial/profile';
import { importProfile, previewProfile } from '../../src/main/settings/profileImport';
import { openTestSettings, testCipher } from '../fixtures/appHarness';
import { tempDir } from '../fixtures/tmp';

function profile(change: Partial<Profile> = {}): string {
  return formatProfile({
    name: 'Lab gateway',
    uri: 'ws://lab.example.com/ssh',
    proxy: 'system',
    trust: { ca: [], pins: [], pinOnly: false },
    ...change,
  });
}

async function setup(t: TestContext) {
  const dir = tempDir(t);
  const { settings } = await openTestSettings(dir, testCipher());
  return { settings, deps: { settings, caDir: dir } };
}

test('a profile with "resume": false: the preview says so, the added endpoint does not resume', async (t) => {
  const { settings, deps } = await setup(t);
  const text = profile({ resume: false });
  assert.match(text, /"resume": false/, 'the profile as an admin writes it');
  const preview = previewProfile(deps, text, 'the file lab.wssh');
  assert.ok(preview.ok, JSON.stringify(preview));
  assert.equal(preview.value.resume, false);
  const added = importProfile(deps, { text, source: 'the file lab.wssh', mode: 'add' });
  assert.ok(added.ok, JSON.stringify(added));
  assert.equal(added.value.resume, false);
  assert.equal(settings.stored().endpoints.find((e) => e.id === added.value.id)?.resume, false);
  // Without the field: on, as for any new endpoint.
  const plain = previewProfile(deps, profile({ uri: 'ws://other.example.com/ssh' }), 'the file other.wssh');
  assert.ok(plain.ok);
  assert.equal(plain.value.resume, true);
  const other = importProfile(deps, { text: profile({ uri: 'ws://other.example.com/ssh' }), source: 'the file other.wssh', mode: 'add' });
  assert.ok(other.ok);
  assert.equal(other.value.resume, true);
});

test('an update: the profile turns resume off; a profile without the field keeps the endpoint’s own choice', async (t) => {
  const { settings, deps } = await setup(t);
  const saved = settings.saveEndpoint({ name: 'Lab', uri: 'ws://lab.example.com/ssh', user: '', keepaliveSec: 30 });
  assert.ok(saved.ok);
  const update = (text: string) => importProfile(deps, { text, source: 'the file lab.wssh', mode: 'update', updateId: saved.value.id });
  const off = update(profile({ resume: false }));
  assert.ok(off.ok, JSON.stringify(off));
  assert.equal(off.value.id, saved.value.id);
  assert.equal(off.value.resume, false);
  const again = update(profile());
  assert.ok(again.ok);
  assert.equal(again.value.resume, false, 'no field: the endpoint keeps resume off');
  settings.saveEndpoint({ id: saved.value.id, name: 'Lab', uri: 'ws://lab.example.com/ssh', user: '', keepaliveSec: 30, resume: true });
  const on = update(profile());
  assert.ok(on.ok);
  assert.equal(on.value.resume, true, 'no field: the endpoint keeps resume on');
});
