// The endpoint profile format (src/core/dial/profile.ts): a round trip through
// text and link, the normal form, and every bad input refused with a message
// that says what and where. Certificates are real ones made by openssl.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_PROFILE_BYTES,
  MAX_PROFILE_LINK_CHARS,
  Profile,
  ProfileError,
  formatProfile,
  parseProfile,
  profileLink,
  profileTextFromLink,
  summarizeCertificate,
} from '../../../src/core/dial/profile';
import { certificateTexts } from '../../../scripts/harness/tls';

let caPem = '';
let serverPem = '';
let pin = { base64: '', hex: '' };

before(async () => {
  ({ caPem, serverPem, pin } = await certificateTexts('wssh-profile-'));
});

function full(): Profile {
  return {
    name: 'Office gateway',
    uri: 'wss://gw.example.com/ssh',
    user: 'alice',
    proxy: { url: 'http://proxy.example.com:3128' },
    trust: { ca: [caPem], pins: [pin.base64], pinOnly: false, servername: 'gw.example.com' },
  };
}

/** A profile document as JSON.parse gives it, for the tests to break: any field, any value. */
type ProfileDocument = Record<string, unknown> & { trust: Record<string, unknown> };

/** The document of `full()` with `change` applied, as text. */
function doc(change: (d: ProfileDocument) => void): string {
  const d = JSON.parse(formatProfile(full())) as ProfileDocument;
  change(d);
  return JSON.stringify(d);
}

function refused(text: string, expected: RegExp): void {
  assert.throws(
    () => parseProfile(text),
    (err: Error) => {
      assert.ok(err instanceof ProfileError, `a ProfileError, not ${err.name}: ${err.message}`);
      assert.match(err.message, expected);
      return true;
    },
  );
}

test('a profile survives text and link unchanged, in its normal form', () => {
  const text = formatProfile(full());
  assert.match(text, /^\{\n {2}"wsshProfile": 1,\n {2}"name": "Office gateway",/);
  assert.ok(text.endsWith('}\n'));
  const back = parseProfile(text);
  assert.deepEqual(back, full());
  assert.equal(formatProfile(back), text);
  const link = profileLink(back);
  assert.match(link, /^wssh:\/\/import\?profile=[A-Za-z0-9_-]+$/);
  assert.deepEqual(parseProfile(profileTextFromLink(link)), full());
});

test('defaults and normal forms: a hex pin becomes sha256/BASE64, a trailing slash goes, proxy defaults to system', () => {
  const p = parseProfile(JSON.stringify({ wsshProfile: 1, name: ' Lab ', uri: 'wss://gw.example.com/ssh/', trust: { pins: [pin.hex], pinOnly: true } }));
  assert.deepEqual(p, { name: 'Lab', uri: 'wss://gw.example.com/ssh', proxy: 'system', trust: { ca: [], pins: [pin.base64], pinOnly: true } });
  assert.deepEqual(parseProfile('\uFEFF{"wsshProfile":1,"name":"x","uri":"ws://h:4567/ssh"}'), {
    name: 'x',
    uri: 'ws://h:4567/ssh',
    proxy: 'system',
    trust: { ca: [], pins: [], pinOnly: false },
  });
  // A CA file with a chain becomes one entry per certificate.
  const two = parseProfile(doc((d) => (d.trust.ca = [caPem + serverPem])));
  assert.equal(two.trust.ca.length, 2);
});

test('a certificate summary: subject, issuer, dates, the fingerprint a pin takes', () => {
  const s = summarizeCertificate(serverPem);
  assert.equal(s.subject, 'CN=localhost');
  assert.equal(s.issuer, 'CN=WSSH test CA');
  assert.equal(s.fingerprint, pin.base64);
  assert.ok(Date.parse(s.validTo) > Date.parse(s.validFrom));
});

test('not a profile', () => {
  refused('', /^not a WSSH profile: not JSON/);
  refused('Host gw\n  ProxyCommand nc', /^not a WSSH profile: not JSON/);
  refused('[1,2]', /^not a WSSH profile: not a JSON object$/);
  refused('{"name":"x","uri":"wss://gw/ssh"}', /^not a WSSH profile: it has no "wsshProfile" version field$/);
  refused('{"wsshProfile":"1"}', /^wsshProfile: not a WSSH profile: the version must be a whole number, not "1"$/);
  refused(' '.repeat(MAX_PROFILE_BYTES + 1), /^not a WSSH profile: larger than 64 KiB$/);
});

test('a newer version', () => {
  refused(
    doc((d) => (d.wsshProfile = 2)),
    /^made by a newer WSSH \(profile version 2; this one reads version 1\): update WSSH to use it$/,
  );
});

test('a field it does not know, and anything that looks like a secret', () => {
  refused(
    doc((d) => (d.colour = 'blue')),
    /^colour: unknown field \(profile version 1 has "wsshProfile", "name", "uri", "user", "proxy", "trust", "resume"\)$/,
  );
  refused(
    doc((d) => (d.trust.crl = [])),
    /^trust\.crl: unknown field/,
  );
  for (const key of ['secret', 'password', 'token', 'privateKey']) {
    refused(
      doc((d) => (d[key] = 'x')),
      new RegExp(`^${key}: a profile never holds a secret: remove this field$`),
    );
  }
  refused(
    doc((d) => (d.uri = 'wss://alice:s3cret@gw.example.com/ssh')),
    /^uri: the URI carries a secret: a profile never holds one/,
  );
  refused(
    doc((d) => (d.uri = 'wss://alice@gw.example.com/ssh')),
    /^uri: the URI carries a user name: put it in "user"$/,
  );
  refused(
    doc((d) => (d.proxy = { url: 'http://bob:pw@proxy:3128' })),
    /^proxy\.url: the proxy URL carries user info: a profile never holds a secret$/,
  );
});

test('a URI that is not ws:// or wss://', () => {
  refused(
    doc((d) => (d.uri = 'https://gw.example.com/ssh')),
    /^uri: use wss:\/\/ instead of https:\/\//,
  );
  refused(
    doc((d) => (d.uri = 'ftp://gw.example.com/ssh')),
    /^uri: unsupported scheme "ftp:": use ws:\/\/ or wss:\/\/$/,
  );
  refused(
    doc((d) => delete d.uri),
    /^uri: the profile needs the endpoint URI/,
  );
  refused(
    doc((d) => (d.uri = 'wss://gw.example.com:99999/ssh')),
    /^uri: port "99999" is not a number from 1 to 65535$/,
  );
});

test('a broken PEM or pin', () => {
  const broken = caPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!');
  refused(
    doc((d) => (d.trust.ca = [broken])),
    /^trust\.ca\[0\]: the PEM certificate is broken \(/,
  );
  refused(
    doc((d) => (d.trust.ca = [caPem, 'hello'])),
    /^trust\.ca\[1\]: no PEM certificate in it/,
  );
  refused(
    doc((d) => (d.trust.ca = [caPem.replace('-----END CERTIFICATE-----', '')])),
    /^trust\.ca\[0\]: /,
  );
  refused(
    doc((d) => (d.trust.ca = caPem)),
    /^trust\.ca: must be a list of PEM certificates$/,
  );
  refused(
    doc((d) => (d.trust.pins = ['sha256/abc'])),
    /^trust\.pins\[0\]: pin "sha256\/abc": a sha256 fingerprint has 32 bytes, this one 2$/,
  );
  refused(
    doc((d) => (d.trust.pins = [pin.base64, 'AB:CD'])),
    /^trust\.pins\[1\]: pin "AB:CD": expected sha256\/BASE64 or AB:CD/,
  );
  refused(
    doc((d) => ((d.trust.pins = []), (d.trust.pinOnly = true))),
    /^trust\.pinOnly: needs a pin/,
  );
  refused(
    doc((d) => (d.trust.servername = '10.0.0.1')),
    /^trust\.servername: servername "10\.0\.0\.1": expected a DNS name/,
  );
});

test('TLS trust for a ws:// endpoint, a bad name, user or proxy', () => {
  refused(
    doc((d) => (d.uri = 'ws://gw.example.com/ssh')),
    /^trust: TLS trust is only for wss:\/\/ endpoints/,
  );
  refused(
    doc((d) => (d.name = '')),
    /^name: the profile needs a name$/,
  );
  refused(
    doc((d) => (d.name = 'a\nb')),
    /^name: must not contain control characters/,
  );
  refused(
    doc((d) => (d.user = 'al:ice')),
    /^user: must not contain ":"/,
  );
  refused(
    doc((d) => (d.proxy = 'auto')),
    /^proxy: must be "system", "none" or \{"url": "http:\/\/proxy:port"\}$/,
  );
  refused(
    doc((d) => (d.proxy = { url: 'socks5://p:1080' })),
    /^proxy\.url: /,
  );
});

test('links: not a profile link, no profile, not base64url, oversized', () => {
  const bad = (link: string, expected: RegExp) =>
    assert.throws(
      () => profileTextFromLink(link),
      (err: Error) => err instanceof ProfileError && expected.test(err.message),
    );
  bad('wssh://export?profile=abc', /^not a WSSH profile link: expected wssh:\/\/import\?profile=…$/);
  bad('wssh://import?name=x', /^the link carries no profile/);
  bad('wssh://import?profile=a%20b', /^the link's profile is not base64url$/);
  bad(`wssh://import?profile=${'A'.repeat(MAX_PROFILE_LINK_CHARS)}`, /^the link is \d+ characters long, more than the 16384 a profile link may have$/);
  // A link that decodes to something that is not a profile is refused by parseProfile.
  refused(profileTextFromLink(`wssh://import?profile=${Buffer.from('{"hello":1}').toString('base64url')}`), /no "wsshProfile" version field/);
});
