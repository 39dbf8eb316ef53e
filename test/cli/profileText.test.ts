// A profile's text is the sender's (issue 24, item 8): a name or user with a
// C1 control (the 8-bit CSI), a bidi override (which shows "exe.txt" as
// "txt.exe"), a line separator, or a proxy URL with a line break the URL
// parser drops, printed by `wssh profile show` or shown by the app's import
// preview, spoofs what the user reads. Such a profile is refused, naming the
// field, by the CLI (run as the user runs it) and by the app's import path;
// a hostile unknown field's name is escaped in the message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../fixtures/tmp';
import { cleanEnv, runWssh } from '../fixtures/wssh';
import { previewProfile } from '../../src/main/settings/profileImport';
import type { EndpointView } from '../../src/shared/ipc';

const base = { wsshProfile: 1, name: 'Office gateway', uri: 'wss://gw.example.com/ssh', user: 'alice', proxy: 'none' };

const HOSTILE: Array<[string, Record<string, unknown>, RegExp]> = [
  ['a bidi override in the name', { name: 'Office \u202eyawetag' }, /name: must not contain control characters, line breaks or bidi controls/],
  ['an 8-bit CSI in the name', { name: 'Office\u009b2J' }, /name: must not contain control characters, line breaks or bidi controls/],
  ['a line separator in the name', { name: 'Office\u2028Endpoint: wss://evil/ssh' }, /name: must not contain control characters/],
  ['a bidi isolate in the user', { user: 'alice\u2066admin' }, /user: must not contain ":", control characters or bidi controls/],
  ['a C1 control in the user', { user: 'alice\u0085' }, /user: must not contain ":", control characters or bidi controls/],
  ['a line break in the proxy URL', { proxy: { url: 'http://proxy\r\n.example:3128' } }, /proxy\.url: must not contain control characters/],
];

const noRawControls = (text: string) =>
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/, JSON.stringify(text));

test('wssh profile show refuses a name, user or proxy URL that would spoof what it prints', async (t) => {
  const dir = tempDir(t);
  for (const [what, change, expected] of HOSTILE) {
    const file = path.join(dir, 'hostile.wssh');
    fs.writeFileSync(file, JSON.stringify({ ...base, ...change }));
    const r = await runWssh(['profile', 'show', file], { env: cleanEnv() });
    assert.equal(r.stdout.length, 0, `${what}: printed ${JSON.stringify(r.stdout.toString())}`);
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.match(r.stderr, expected, what);
    noRawControls(r.stderr);
  }
  // An unknown field's name is the sender's text too: said escaped.
  const file = path.join(dir, 'field.wssh');
  fs.writeFileSync(file, JSON.stringify({ ...base, 'x\u001b]52;c;cHduZWQ=\u0007': 1 }));
  const r = await runWssh(['profile', 'show', file], { env: cleanEnv() });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /x\\x1b\]52;c;cHduZWQ=\\x07: unknown field/);
  noRawControls(r.stderr);
});

test("the app's import preview refuses the same profiles, so it cannot be spoofed", () => {
  const settings = { settings: { view: () => ({ endpoints: [] as EndpointView[] }) }, caDir: '' } as unknown as Parameters<typeof previewProfile>[0];
  for (const [what, change, expected] of HOSTILE) {
    const preview = previewProfile(settings, JSON.stringify({ ...base, ...change }), 'the link');
    assert.ok(!preview.ok, `${what}: previewed as ${JSON.stringify(preview)}`);
    assert.match(preview.error, expected, what);
    noRawControls(preview.error);
  }
  const fine = previewProfile(settings, JSON.stringify({ ...base, name: 'Büro-Gateway 東京' }), 'the link');
  assert.ok(fine.ok && fine.value.name === 'Büro-Gateway 東京', 'other scripts are names like any');
});
