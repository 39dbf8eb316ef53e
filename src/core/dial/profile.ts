/**
 * Endpoint profiles: `NAME.wssh`, a small versioned JSON document in which an
 * admin hands users everything needed to reach a gateway (its URI, the TLS
 * trust, the proxy mode, optionally a user name), and never a secret.
 *
 *   {
 *     "wsshProfile": 1,
 *     "name": "Office gateway",
 *     "uri": "wss://gw.example.com/ssh",
 *     "user": "alice",                       (optional)
 *     "proxy": "system",                     ("system", "none" or {"url": "http://proxy:3128"})
 *     "resume": false,                       (optional: tunnels are not resumed after a break)
 *     "trust": {
 *       "ca": ["-----BEGIN CERTIFICATE-----…"],   (PEM, inline)
 *       "pins": ["sha256/…"],
 *       "pinOnly": false,
 *       "servername": "gw.example.com"       (optional)
 *     }
 *   }
 *
 * The same document travels in a `wssh://import?profile=BASE64URL` link.
 * Reading is strict: an unknown field, a newer version, a broken PEM or pin,
 * a URI that is not ws/wss, anything that looks like a secret is refused with
 * a message that names the field, and nothing is half-taken.
 *
 * A profile is the sender's text, shown to the user before it is imported
 * (`wssh profile show`, the app's preview): a name, user or proxy URL with a
 * control character, a line or paragraph separator or a bidi control (which
 * shows `exe.txt` as `txt.exe`) is refused, so what is shown is what it holds.
 */
import crypto from 'node:crypto';
import { MAX_PROFILE_BYTES } from '../../shared/defaults';
import { EndpointError, parseEndpoint } from '../../shared/endpoint';
import { TrustError, checkTrustOptions, formatPin, parsePin } from './trust/trust';
import { ProxyConfigError, parseProxyUrl } from '../upstream/upstreamProxy';
import type { ProxySetting } from '../../shared/endpointSettings';
import { hasUnsafeCharacters, peerText } from '../tunnel/peerText';

/** The format version this build writes and the newest it reads. */
export const PROFILE_VERSION = 1;
/** The file name extension of a profile (the installer's file association). */
export const PROFILE_EXTENSION = '.wssh';
/** A profile file larger than this is not one. */
export { MAX_PROFILE_BYTES };
/**
 * The longest `wssh://import?…` link taken. Windows hands a link to the app
 * on its command line, which holds at most 32767 characters.
 */
export const MAX_PROFILE_LINK_CHARS = 16 * 1024;
/** How many CA certificates (PEM blocks) and pins one profile may carry. */
export const MAX_PROFILE_CAS = 8;
export const MAX_PROFILE_PINS = 16;
const MAX_NAME_CHARS = 200;
const MAX_USER_CHARS = 256;

/** The proxy mode a profile carries: the tray app's own setting (src/shared/endpointSettings.ts), which the plan (endpointPlan.ts) reads. */
export type ProfileProxy = ProxySetting;

export interface ProfileTrust {
  /** CA certificates to trust too, one PEM block each. */
  ca: string[];
  /** sha256 pins of the endpoint's certificate, as `sha256/BASE64`. */
  pins: string[];
  /** The pin replaces the issuer and name checks (a self-signed server). */
  pinOnly: boolean;
  /** The TLS server name (SNI) to send and check instead of the URI's host. */
  servername?: string;
}

export interface Profile {
  name: string;
  /** ws:// or wss:// without userinfo, query or fragment. */
  uri: string;
  /** The Basic-auth user name; each user types their own secret. */
  user?: string;
  proxy: ProfileProxy;
  trust: ProfileTrust;
  /** `false`: tunnels are not resumed after a break of their WebSocket (on by default; absent means on). */
  resume?: boolean;
}

/** What is wrong with a profile; `field` is where (`trust.pins[1]`), when known. */
export class ProfileError extends Error {
  override name = 'ProfileError';
  readonly field?: string;
  constructor(message: string, field?: string) {
    // Both may quote the profile (an unknown field's name, JSON.parse's excerpt): escaped.
    const where = field === undefined ? undefined : peerText(field, 100);
    super(peerText(where ? `${where}: ${message}` : message, 1000));
    this.field = where;
  }
}

/** A certificate as shown to the person who decides to trust it. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** `sha256/BASE64`, the form a pin takes. */
  fingerprint: string;
}

const TOP_FIELDS = new Set(['wsshProfile', 'name', 'uri', 'user', 'proxy', 'trust', 'resume']);
const TRUST_FIELDS = new Set(['ca', 'pins', 'pinOnly', 'servername']);
const SECRET_FIELD = /secret|password|passwd|token|key$|credential/i;

/**
 * Reads a profile document.
 *
 * @throws {ProfileError} saying what is wrong and where.
 */
export function parseProfile(text: string): Profile {
  if (typeof text !== 'string') throw new ProfileError('not a WSSH profile: not text');
  if (byteLength(text) > MAX_PROFILE_BYTES) {
    throw new ProfileError(`not a WSSH profile: larger than ${MAX_PROFILE_BYTES / 1024} KiB`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    // One line: JSON.parse quotes the input, line breaks and all.
    throw new ProfileError(`not a WSSH profile: not JSON (${(err as Error).message.replace(/\s+/g, ' ')})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ProfileError('not a WSSH profile: not a JSON object');
  const record = doc as Record<string, unknown>;
  if (!('wsshProfile' in record)) throw new ProfileError('not a WSSH profile: it has no "wsshProfile" version field');
  const version = record.wsshProfile;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new ProfileError(`not a WSSH profile: the version must be a whole number, not ${JSON.stringify(version)}`, 'wsshProfile');
  }
  if (version > PROFILE_VERSION) {
    throw new ProfileError(`made by a newer WSSH (profile version ${version}; this one reads version ${PROFILE_VERSION}): update WSSH to use it`);
  }
  refuseUnknownFields(record, TOP_FIELDS, '');
  return checkProfile({
    name: record.name as string,
    uri: record.uri as string,
    user: record.user as string | undefined,
    proxy: (record.proxy ?? 'system') as ProfileProxy,
    trust: readTrust(record.trust),
    resume: record.resume as boolean | undefined,
  });
}

/** The profile as a file's text (pretty JSON, version first, a final newline). */
export function formatProfile(profile: Profile): string {
  const checked = checkProfile(profile);
  const doc: Record<string, unknown> = { wsshProfile: PROFILE_VERSION, name: checked.name, uri: checked.uri };
  if (checked.user !== undefined) doc.user = checked.user;
  doc.proxy = checked.proxy;
  const trust: Record<string, unknown> = { ca: checked.trust.ca, pins: checked.trust.pins, pinOnly: checked.trust.pinOnly };
  if (checked.trust.servername !== undefined) trust.servername = checked.trust.servername;
  doc.trust = trust;
  if (checked.resume === false) doc.resume = false;
  return JSON.stringify(doc, null, 2) + '\n';
}

/**
 * Checks every field and returns the profile in its normal form (pins as
 * `sha256/BASE64`, one PEM block per CA entry).
 *
 * @throws {ProfileError}
 */
export function checkProfile(profile: Profile): Profile {
  const name = profile.name;
  if (typeof name !== 'string' || name.trim() === '') throw new ProfileError('the profile needs a name', 'name');
  if (name.trim().length > MAX_NAME_CHARS) throw new ProfileError(`longer than ${MAX_NAME_CHARS} characters`, 'name');
  if (hasUnsafeCharacters(name)) throw new ProfileError('must not contain control characters, line breaks or bidi controls', 'name');

  if (typeof profile.uri !== 'string') throw new ProfileError('the profile needs the endpoint URI (ws://… or wss://…)', 'uri');
  let endpoint;
  try {
    endpoint = parseEndpoint(profile.uri);
  } catch (err) {
    if (err instanceof EndpointError) throw new ProfileError(err.message, 'uri');
    throw err;
  }
  if (endpoint.credentials) {
    if (endpoint.credentials.secret !== '') throw new ProfileError('the URI carries a secret: a profile never holds one (each user types their own)', 'uri');
    throw new ProfileError('the URI carries a user name: put it in "user"', 'uri');
  }

  let user = profile.user;
  if (user !== undefined) {
    if (typeof user !== 'string') throw new ProfileError('must be a string', 'user');
    user = user.trim();
    if (user.length > MAX_USER_CHARS) throw new ProfileError(`longer than ${MAX_USER_CHARS} characters`, 'user');
    if (user.includes(':') || hasUnsafeCharacters(user)) throw new ProfileError('must not contain ":", control characters or bidi controls', 'user');
    if (user === '') user = undefined;
  }

  const proxy = checkProxy(profile.proxy);
  const trust = checkTrust(profile.trust, endpoint.secure);
  if (profile.resume !== undefined && typeof profile.resume !== 'boolean') throw new ProfileError('must be true or false', 'resume');
  const checked: Profile = { name: name.trim(), uri: endpoint.url, proxy, trust };
  if (user !== undefined) checked.user = user;
  if (profile.resume === false) checked.resume = false;
  return checked;
}

/** The `wssh://import?profile=…` link that carries the profile. */
export function profileLink(profile: Profile): string {
  const data = Buffer.from(formatProfile(profile).trimEnd(), 'utf8').toString('base64url');
  const link = `wssh://import?profile=${data}`;
  if (link.length > MAX_PROFILE_LINK_CHARS) {
    throw new ProfileError(
      `the link would be ${link.length} characters, more than the ${MAX_PROFILE_LINK_CHARS} a link may have: hand out the .wssh file instead`,
    );
  }
  return link;
}

/** Whether a command-line argument is a profile link (the registered `wssh:` protocol). */
export function isProfileLink(text: string): boolean {
  return /^wssh:/i.test(text);
}

/**
 * The profile document a `wssh://import?profile=…` link carries (then read
 * with parseProfile).
 *
 * @throws {ProfileError}
 */
export function profileTextFromLink(link: string): string {
  if (link.length > MAX_PROFILE_LINK_CHARS) {
    throw new ProfileError(`the link is ${link.length} characters long, more than the ${MAX_PROFILE_LINK_CHARS} a profile link may have`);
  }
  const match = /^wssh:\/\/import\/?\?(.*)$/i.exec(link.trim());
  if (!match) throw new ProfileError('not a WSSH profile link: expected wssh://import?profile=…');
  const params = new URLSearchParams(match[1]);
  const data = params.get('profile');
  if (data === null || data === '') throw new ProfileError('the link carries no profile (wssh://import?profile=…)');
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(data)) throw new ProfileError("the link's profile is not base64url");
  return Buffer.from(data, 'base64url').toString('utf8');
}

/** Subject, issuer, dates and fingerprint of one PEM certificate. */
export function summarizeCertificate(pem: string | Buffer): CertificateSummary {
  const cert = new crypto.X509Certificate(pem);
  return summarizeX509(cert);
}

export function summarizeX509(cert: crypto.X509Certificate): CertificateSummary {
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    fingerprint: formatPin(crypto.createHash('sha256').update(cert.raw).digest()),
  };
}

/**
 * The PEM certificate blocks in a text (a CA file may hold a chain), each
 * checked to be a certificate. `where` names the input in the message.
 *
 * @throws {ProfileError}
 */
export function pemCertificates(text: string, where: string): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ProfileError('no PEM certificate in it (-----BEGIN CERTIFICATE-----)', where);
  const begins = text.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  if (begins !== blocks.length) throw new ProfileError('a PEM certificate has no -----END CERTIFICATE----- line', where);
  return blocks.map((block, i) => {
    try {
      new crypto.X509Certificate(block);
    } catch (err) {
      throw new ProfileError(`the PEM certificate${blocks.length > 1 ? ` #${i + 1}` : ''} is broken (${(err as Error).message})`, where);
    }
    return block.replace(/\r\n/g, '\n') + '\n';
  });
}

function readTrust(value: unknown): ProfileTrust {
  if (value === undefined) return { ca: [], pins: [], pinOnly: false };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProfileError('must be an object', 'trust');
  const record = value as Record<string, unknown>;
  refuseUnknownFields(record, TRUST_FIELDS, 'trust.');
  return {
    ca: (record.ca ?? []) as string[],
    pins: (record.pins ?? []) as string[],
    pinOnly: (record.pinOnly ?? false) as boolean,
    servername: record.servername as string | undefined,
  };
}

function checkTrust(trust: ProfileTrust | undefined, secure: boolean): ProfileTrust {
  const t = trust ?? { ca: [], pins: [], pinOnly: false };
  if (!Array.isArray(t.ca)) throw new ProfileError('must be a list of PEM certificates', 'trust.ca');
  if (!Array.isArray(t.pins)) throw new ProfileError('must be a list of sha256 fingerprints', 'trust.pins');
  if (typeof t.pinOnly !== 'boolean') throw new ProfileError('must be true or false', 'trust.pinOnly');
  if (t.servername !== undefined && typeof t.servername !== 'string') throw new ProfileError('must be a DNS name', 'trust.servername');

  const ca: string[] = [];
  t.ca.forEach((pem, i) => {
    if (typeof pem !== 'string') throw new ProfileError('must be a PEM certificate (text)', `trust.ca[${i}]`);
    ca.push(...pemCertificates(pem, `trust.ca[${i}]`));
  });
  if (ca.length > MAX_PROFILE_CAS) throw new ProfileError(`at most ${MAX_PROFILE_CAS} CA certificates`, 'trust.ca');
  if (t.pins.length > MAX_PROFILE_PINS) throw new ProfileError(`at most ${MAX_PROFILE_PINS} pins`, 'trust.pins');
  const pins = t.pins.map((pin, i) => {
    if (typeof pin !== 'string') throw new ProfileError('must be a sha256 fingerprint (text)', `trust.pins[${i}]`);
    try {
      return formatPin(parsePin(pin));
    } catch (err) {
      if (err instanceof TrustError) throw new ProfileError(err.message, `trust.pins[${i}]`);
      throw err;
    }
  });
  if (t.pinOnly && pins.length === 0) throw new ProfileError('needs a pin: the fingerprint the certificate must have', 'trust.pinOnly');
  const servername = t.servername?.trim() === '' ? undefined : t.servername?.trim();
  if (servername !== undefined) {
    try {
      checkTrustOptions({ servername });
    } catch (err) {
      if (err instanceof TrustError) throw new ProfileError(err.message, 'trust.servername');
      throw err;
    }
  }
  if (!secure && (ca.length > 0 || pins.length > 0 || t.pinOnly || servername !== undefined)) {
    throw new ProfileError('TLS trust is only for wss:// endpoints (the URI is ws://, with no TLS)', 'trust');
  }
  const checked: ProfileTrust = { ca, pins, pinOnly: t.pinOnly };
  if (servername !== undefined) checked.servername = servername;
  return checked;
}

function checkProxy(proxy: unknown): ProfileProxy {
  if (proxy === 'system' || proxy === 'none') return proxy;
  if (typeof proxy === 'object' && proxy !== null && !Array.isArray(proxy)) {
    const record = proxy as Record<string, unknown>;
    refuseUnknownFields(record, new Set(['url']), 'proxy.');
    if (typeof record.url !== 'string') throw new ProfileError('must be an http:// proxy URL', 'proxy.url');
    const url = record.url.trim();
    // The URL parser drops tabs and line breaks: the text shown would not be the proxy used.
    if (hasUnsafeCharacters(url)) throw new ProfileError('must not contain control characters, line breaks or bidi controls', 'proxy.url');
    try {
      parseProxyUrl(url);
    } catch (err) {
      // The profile names the field itself (proxy.url): what is wrong, without core's "proxy".
      if (err instanceof ProxyConfigError) throw new ProfileError(err.detail, 'proxy.url');
      throw err;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(url)) {
      throw new ProfileError('the proxy URL carries user info: a profile never holds a secret', 'proxy.url');
    }
    return { url };
  }
  throw new ProfileError('must be "system", "none" or {"url": "http://proxy:port"}', 'proxy');
}

function refuseUnknownFields(record: Record<string, unknown>, known: Set<string>, prefix: string): void {
  for (const key of Object.keys(record)) {
    if (known.has(key)) continue;
    if (SECRET_FIELD.test(key)) throw new ProfileError('a profile never holds a secret: remove this field', `${prefix}${key}`);
    throw new ProfileError(`unknown field (profile version ${PROFILE_VERSION} has ${[...known].map((k) => `"${k}"`).join(', ')})`, `${prefix}${key}`);
  }
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** A distinguished name on one line, escaped: a certificate's names are whoever made it's text. */
function oneLine(dn: string): string {
  return peerText(dn.split('\n').filter(Boolean).join(', '), 1024);
}
