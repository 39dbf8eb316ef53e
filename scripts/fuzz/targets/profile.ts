/**
 * Endpoint profiles (src/core/dial/profile.ts): `.wssh` files and
 * `wssh://import?profile=…` links, as an admin hands them out and as they
 * arrive damaged, truncated or hostile.
 */
import * as fc from 'fast-check';
import { ProfileError, formatProfile, parseProfile, profileLink, profileTextFromLink, type Profile } from '../../../src/core/dial/profile';
import { mutatedText } from '../mutate';
import { holds, onlyErrors, same, type FuzzTarget } from '../target';

const pin = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `sha256/${Buffer.from(b).toString('base64')}`);
const brokenPem = fc.constantFrom('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', '-----BEGIN CERTIFICATE-----\n', 'not a pem');

/** A profile document as JSON values: mostly right, with the odd wrong type or unknown field. */
const document = fc.record(
  {
    wsshProfile: fc.oneof(fc.constant(1), fc.constantFrom(0, 2, 1.5, '1', null)),
    name: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('Office gateway', ' padded ', 'a\nb', '')),
    uri: fc.oneof(
      fc.constantFrom(
        'wss://gw.example.com/ssh',
        'ws://10.0.0.1:8080/ssh',
        'wss://[::1]/ssh',
        'wss://u:s@gw/ssh',
        'wss://u@gw/ssh',
        'https://gw/ssh',
        'wss://gw/ssh?x',
      ),
      fc.webUrl().map((u) => u.replace(/^http/, 'ws')),
    ),
    user: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('alice', 'a:b', '  ', 7)),
    proxy: fc.oneof(
      fc.constantFrom('system', 'none', 'auto', null),
      fc.record({ url: fc.constantFrom('http://proxy:3128', 'http://u:p@proxy:3128', 'socks5://p:1080', 'http://[::1]:8080', 'http://proxy:99999', '') }),
    ),
    trust: fc.record(
      {
        ca: fc.oneof(fc.array(brokenPem, { maxLength: 2 }), fc.constant('x')),
        pins: fc.array(fc.oneof(pin, fc.constantFrom('sha256/abc', 'md5/x', '')), { maxLength: 3 }),
        pinOnly: fc.oneof(fc.boolean(), fc.constant('yes')),
        servername: fc.oneof(fc.domain(), fc.constantFrom('', 'bad name', '-x')),
        secret: fc.constant('hunter2'),
      },
      { requiredKeys: [] },
    ),
    password: fc.constant('hunter2'),
    extra: fc.constant(1),
  },
  { requiredKeys: ['wsshProfile', 'name', 'uri'] },
);

const TOKENS = ['"', ',', '{', '}', '[', ']', ':', '\\u0000', '\\', '\uFEFF', 'null', '1e999', '"wsshProfile": 2', '__proto__'];

export const profileTarget: FuzzTarget<{ text: string; link: string }> = {
  name: 'profile',
  about: 'endpoint profiles: .wssh files (parseProfile, formatProfile) and wssh:// links (profileTextFromLink, profileLink)',
  arbitrary: fc.record({
    text: mutatedText(
      document.map((d) => JSON.stringify(d, null, 2)),
      TOKENS,
    ),
    link: mutatedText(
      document.map((d) => `wssh://import?profile=${Buffer.from(JSON.stringify(d)).toString('base64url')}`),
      ['%', '&', '=', '?', '#', '+', '/', 'profile=', '=='],
    ),
  }),
  testRuns: 1500,
  caseMs: 1000,
  check({ text, link }) {
    const allowed = [ProfileError];
    const profile = onlyErrors('parseProfile', allowed, () => parseProfile(text));
    if (profile) roundTrips(profile);
    const carried = onlyErrors('profileTextFromLink', allowed, () => profileTextFromLink(link));
    if (carried === undefined) return;
    const linked = onlyErrors('parseProfile of a link', allowed, () => parseProfile(carried));
    if (linked) roundTrips(linked);
  },
};

/** A profile read is written as a file and as a link, and both read back the same. */
function roundTrips(profile: Profile): void {
  const file = formatProfile(profile);
  holds(same(parseProfile(file), profile), () => `formatProfile then parseProfile changed ${JSON.stringify(profile)}`);
  const link = onlyErrors('profileLink', [ProfileError], () => profileLink(profile));
  if (link) holds(same(parseProfile(profileTextFromLink(link)), profile), () => `profileLink did not read back: ${link.slice(0, 80)}`);
}
