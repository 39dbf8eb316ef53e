/**
 * The tray app's settings file (src/main/settings/settingsFile.ts, its
 * schema and migrations), as a user, an older version or a broken disk left
 * it: documents of every version, valid or with a value of the wrong type,
 * then mutated as text. Opened with `conf` (the library under
 * electron-store) in a temp folder, as the app's tests do.
 *
 * Properties: openSettings never throws, whatever the file holds (the app
 * starts, a bad file set aside); the settings it gives can be shown and
 * asked for the active endpoint without a throw; and what it wrote reads
 * back the same, with nothing more to say (a second open has no notice).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as fc from 'fast-check';
import { openSettings } from '../../../src/main/settings/settingsFile';
import { confBackend, testCipher } from '../../harness/appSettings';
import type { SecretCipher } from '../../../src/main/settings/secrets';
import { mutatedText } from '../mutate';
import { holds, onlyErrors, onlyErrorsAsync, same, type FuzzTarget } from '../target';

const anyJson = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 8 }), fc.constant([]), fc.constant({}));
/** A value of the right shape most of the time, anything some of the time. */
const or = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: arb }, { weight: 1, arbitrary: anyJson });

const uri = fc.constantFrom('wss://gw.example.com/ssh', 'ws://localhost:4567/ssh', 'wss://u:s%40@gw/ssh', 'ws://', 'http://x', 'wss://[::1]:443/ssh');
const proxy = fc.oneof(
  fc.constantFrom('system', 'none', 'pac'),
  fc.record({ url: fc.constantFrom('http://p:3128', 'http://u@p:3128', 'http://u:pw@p:1', 'bad') }),
);
const trust = fc.record(
  {
    caFile: fc.constantFrom('/etc/ca.pem', ''),
    systemStore: fc.boolean(),
    pins: fc.array(fc.constantFrom('sha256/abc', 'x'), { maxLength: 2 }),
    pinOnly: fc.boolean(),
  },
  { requiredKeys: [] },
);
const endpoint = fc.record(
  {
    id: or(fc.constantFrom('ep1', 'local', 'a')),
    name: or(fc.string({ maxLength: 12 })),
    uri: or(uri),
    url: or(uri),
    user: or(fc.string({ maxLength: 6 })),
    secret: or(fc.constantFrom('', 'not-sealed', 'v1:AAAA')),
    keepaliveSec: or(fc.integer({ min: -1, max: 100000 })),
    proxy: or(proxy),
    proxyAuth: or(
      fc.oneof(fc.constant({ mode: 'windows' }), fc.record({ mode: fc.constant('password'), user: fc.string({ maxLength: 5 }), secret: fc.constant('') })),
    ),
    trust: or(trust),
  },
  { requiredKeys: [] },
);
const document = fc.record(
  {
    version: or(fc.constantFrom(1, 2, 3, 4, 5, 0, 2.5)),
    endpoints: or(fc.array(or(endpoint), { maxLength: 3 })),
    activeEndpoint: or(fc.string({ maxLength: 6 })),
    activeEndpointId: or(fc.constantFrom('ep1', 'local', null)),
    listenPort: or(fc.integer({ min: -1, max: 70000 })),
    listen: or(fc.record({ host: fc.constantFrom('127.0.0.1', '::1', '0.0.0.0', 'x'), port: fc.integer({ min: -1, max: 70000 }) })),
    startTunnelAtLaunch: or(fc.boolean()),
    startAtLogin: or(fc.boolean()),
  },
  { requiredKeys: [] },
);

export const settingsFileTarget: FuzzTarget<string, { root: string; cipher: SecretCipher; n: number }> = {
  name: 'settings-file',
  about: "the tray app's settings file: every version, wrong types, broken JSON (openSettings, migrations, schema)",
  arbitrary: mutatedText(
    document.map((d) => JSON.stringify(d, null, '\t')),
    ['"', ',', '{', '}', '[', ']', ':', 'null', '"version": 9', '\\', '\uFEFF'],
    2,
  ),
  testRuns: 120,
  caseMs: 3000,
  async setup() {
    return { root: fs.mkdtempSync(path.join(os.tmpdir(), 'wssh-fuzz-settings-')), cipher: testCipher(), n: 0 };
  },
  async teardown({ root }) {
    fs.rmSync(root, { recursive: true, force: true });
  },
  async check(text, context) {
    const dir = path.join(context.root, String(context.n++));
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'settings.json'), text);
    const open = () => openSettings({ dir, cipher: context.cipher, createBackend: confBackend, now: () => new Date(0) });
    try {
      const first = (await onlyErrorsAsync('openSettings', [], open))!;
      const view = onlyErrors('view', [], () => first.settings.view())!;
      onlyErrors('activeEndpoint', [], () => first.settings.activeEndpoint());
      const again = await open();
      holds(again.notices.length === 0, () => `the file it wrote was not taken back: ${again.notices.map((n) => n.text).join('; ')}`);
      holds(same(again.settings.view(), view), () => 'the settings read back differently');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
