/**
 * `wssh profile create | show | link`: the admin writes an endpoint profile
 * (NAME.wssh) once, users import it in the tray app or pass it to
 * `wssh connect --profile` / `wssh client --profile`.
 */
import fs from 'node:fs';
import { type Endpoint, EndpointError, parseEndpoint } from '../shared/endpoint';
import { Profile, ProfileError, ProfileProxy, checkProfile, formatProfile, pemCertificates, profileLink, summarizeCertificate } from '../core/dial/profile';
import { TrustError, formatPin, parsePin } from '../core/dial/trust/trust';
import { CommandValues, UsageError, listOption, proxyOption } from './options';
import { readProfileFile } from './profileOption';
import { fetchServerCertificate } from './serverCertificate';
import { describeConfigError } from './configRemedies';

/** `wssh profile create ENDPOINT …`: the profile on stdout, or in the file of -o. */
export async function runProfileCreate(values: CommandValues, [uri]: string[]): Promise<number> {
  const { endpoint, user } = endpointAndUser(uri, values);
  const host = new URL(endpoint.url).hostname.replace(/^\[|\]$/g, '');
  const servername = typeof values.servername === 'string' ? values.servername : undefined;
  // The name users see: the server's own name when it is reached by address.
  const name = typeof values.name === 'string' ? values.name : (servername ?? host);

  const ca = listOption(values.ca).flatMap(caCertificates);
  const pins = listOption(values.pin).map(pinOption);
  if (!endpoint.secure) {
    const given = [
      ca.length > 0 && '--ca',
      pins.length > 0 && '--pin',
      values['pin-from-server'] && '--pin-from-server',
      values['pin-only'] && '--pin-only',
      servername !== undefined && '--servername',
    ].filter(Boolean);
    if (given.length > 0) throw new UsageError(`${given.join(', ')}: only for wss:// endpoints (${endpoint.display} has no TLS)`);
  }

  const proxy = profileProxy(values);
  const pinOnly = values['pin-only'] === true;
  if (pinOnly && pins.length === 0 && !values['pin-from-server']) throw new UsageError('--pin-only needs --pin or --pin-from-server');
  const draft: Profile = { name, uri: endpoint.url, proxy, trust: { ca, pins, pinOnly, servername } };
  if (user !== undefined) draft.user = user;
  // Everything typed is checked before the network is touched (the pin of
  // --pin-from-server comes later).
  let profile = check({ ...draft, trust: { ...draft.trust, pinOnly: pinOnly && pins.length > 0 } });

  if (values['pin-from-server']) {
    const url = new URL(endpoint.url);
    const port = url.port === '' ? 443 : Number(url.port);
    const fingerprint = await pinFromServer(host, port, draft.trust);
    if (!pins.includes(fingerprint)) pins.push(fingerprint);
    profile = check({ ...draft, trust: { ...draft.trust, pins } });
  }
  return writeProfile(profile, typeof values.output === 'string' ? values.output : undefined);
}

/** The endpoint of `profile create`, and the user: of the endpoint or --user, never a secret. */
function endpointAndUser(uri: string, values: CommandValues): { endpoint: Endpoint; user: string | undefined } {
  let endpoint;
  try {
    endpoint = parseEndpoint(uri);
  } catch (err) {
    if (err instanceof EndpointError) throw new UsageError(`endpoint "${uri.replace(/\/\/[^@/]*@/, '//***@')}": ${err.message}`);
    throw err;
  }
  let user = typeof values.user === 'string' ? values.user : undefined;
  if (endpoint.credentials) {
    if (endpoint.credentials.secret !== '') {
      throw new UsageError(
        `endpoint "${endpoint.display}": it carries a secret, and a profile never holds one: ` +
          'give only the user (--user NAME); each user types their own secret',
      );
    }
    if (user !== undefined && user !== endpoint.credentials.user) {
      throw new UsageError('the user is given both in the endpoint and with --user: give it once');
    }
    user = endpoint.credentials.user;
  }
  return { endpoint, user };
}

/** The certificates of one --ca file, as PEM. */
function caCertificates(file: string): string[] {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--ca "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return pemCertificates(text, `--ca "${file}"`);
  } catch (err) {
    if (err instanceof ProfileError) throw new UsageError(err.message);
    throw err;
  }
}

/** One --pin, in the form a profile keeps. */
function pinOption(pin: string): string {
  try {
    return formatPin(parsePin(pin));
  } catch (err) {
    if (err instanceof TrustError) throw new UsageError(describeConfigError(err));
    throw err;
  }
}

/** The profile's proxy mode: --proxy's URL (with no user info), none, or the system's. */
function profileProxy(values: CommandValues): ProfileProxy {
  const proxySetting = proxyOption(values);
  if (typeof proxySetting === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(proxySetting)) {
    throw new UsageError('--proxy: the URL carries user info, and a profile never holds a secret: give http://HOST:PORT');
  }
  return proxySetting === false ? 'none' : proxySetting === undefined ? 'system' : { url: proxySetting };
}

/**
 * --pin-from-server: the fingerprint of the certificate the server presents,
 * shown on stderr (with what the usual checks think of it) for the admin to check.
 */
async function pinFromServer(host: string, port: number, trust: Profile['trust']): Promise<string> {
  let presented;
  try {
    presented = await fetchServerCertificate(host, port, { servername: trust.servername, ca: trust.ca });
  } catch (err) {
    throw new Error(`--pin-from-server: ${(err as Error).message}`, { cause: err });
  }
  const c = presented.summary;
  process.stderr.write(
    `The certificate ${host}:${port} presents (check it before handing out the profile):\n` +
      `  subject:     ${c.subject}\n` +
      `  issuer:      ${c.issuer}\n` +
      `  valid from:  ${c.validFrom}\n` +
      `  valid until: ${c.validTo}\n` +
      `  sha256:      ${c.fingerprint}\n` +
      (presented.trusted
        ? '  The usual checks (issuer, name, dates) accept it too; the pin is checked on top of them.\n'
        : trust.pinOnly
          ? `  The usual checks refuse it (${presented.untrustedReason}); with --pin-only the pin replaces them.\n`
          : `  Warning: the usual checks refuse it (${presented.untrustedReason}): add --ca FILE with its issuer, ` +
            'or --pin-only for a self-signed server, or clients will refuse it.\n'),
  );
  return c.fingerprint;
}

/** The profile on stdout, or in `output` (readable by all: it holds no secret). */
function writeProfile(profile: Profile, output: string | undefined): number {
  const text = formatProfile(profile);
  if (output === undefined) {
    process.stdout.write(text);
    return 0;
  }
  try {
    fs.writeFileSync(output, text, { mode: 0o644 });
  } catch (err) {
    throw new Error(`cannot write ${output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  process.stderr.write(`wrote ${output}: endpoint "${profile.name}" (${profile.uri})\n`);
  return 0;
}

/** `wssh profile show FILE`: what the profile holds, in words. */
export async function runProfileShow(_values: CommandValues, [file]: string[]): Promise<number> {
  process.stdout.write(describeProfile(readProfileFile(file)));
  return 0;
}

/** `wssh profile link FILE`: the wssh://import?… link that carries the profile. */
export async function runProfileLink(_values: CommandValues, [file]: string[]): Promise<number> {
  const profile = readProfileFile(file);
  try {
    process.stdout.write(profileLink(profile) + '\n');
  } catch (err) {
    if (err instanceof ProfileError) throw new UsageError(`profile "${file}": ${err.message}`);
    throw err;
  }
  return 0;
}

/** The lines of `wssh profile show`. */
export function describeProfile(profile: Profile): string {
  const proxy =
    profile.proxy === 'system' ? 'system (HTTPS_PROXY / the system settings)' : profile.proxy === 'none' ? 'none (always direct)' : profile.proxy.url;
  const lines = [
    `Name:        ${profile.name}`,
    `Endpoint:    ${profile.uri}`,
    `User:        ${profile.user ?? '(none)'}${profile.user ? ' (each user types their own secret)' : ''}`,
    `Proxy:       ${proxy}`,
  ];
  const t = profile.trust;
  if (t.ca.length === 0 && t.pins.length === 0 && t.servername === undefined) {
    lines.push(`TLS trust:   ${profile.uri.startsWith('wss:') ? 'the default CAs' : '(ws://: no TLS)'}`);
  }
  t.ca.forEach((pem, i) => {
    const c = summarizeCertificate(pem);
    lines.push(
      `CA ${i + 1}:        ${c.subject}`,
      `             issued by ${c.issuer}`,
      `             valid ${c.validFrom} to ${c.validTo}`,
      `             ${c.fingerprint}`,
    );
  });
  for (const pin of t.pins) lines.push(`Pin:         ${pin}`);
  if (t.pins.length > 0) {
    const pinOnly = t.pinOnly ? 'yes (the pin replaces the issuer and name checks; dates are checked)' : 'no (the pin is checked on top of the usual checks)';
    lines.push(`Pin only:    ${pinOnly}`);
  }
  if (t.servername !== undefined) lines.push(`Server name: ${t.servername} (sent in SNI and checked in the certificate)`);
  return lines.join('\n') + '\n';
}

function check(profile: Profile): Profile {
  try {
    return checkProfile(profile);
  } catch (err) {
    if (err instanceof ProfileError) throw new UsageError(err.message);
    throw err;
  }
}
