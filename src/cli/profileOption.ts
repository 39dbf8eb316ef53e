/**
 * `--profile FILE` for `wssh connect` and `wssh client`: the endpoint, its TLS
 * trust and its proxy mode from a profile (src/core/dial/profile.ts) instead of
 * the flags.
 *
 * A profile holds no secret. When it names a user, the secret comes from the
 * WSSH_SECRET environment variable (never from the command line, where other
 * users of the machine could read it in the process list).
 */
import fs from 'node:fs';
import { Endpoint, parseEndpoint } from '../shared/endpoint';
import { MAX_PROFILE_BYTES, Profile, ProfileError, parseProfile } from '../core/dial/profile';
import type { TrustOptions } from '../core/dial/trust/trust';
import { CommandValues, UsageError } from './options';

/** The environment variable that holds the secret for a profile's user. */
export const SECRET_ENV = 'WSSH_SECRET';

/** Reads and checks a profile file; any problem is a usage error naming the file and the field. */
export function readProfileFile(file: string): Profile {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new UsageError(`profile "${file}": not a file`);
    if (stat.size > MAX_PROFILE_BYTES) throw new UsageError(`profile "${file}": not a WSSH profile: larger than ${MAX_PROFILE_BYTES / 1024} KiB`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`profile "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseProfile(text);
  } catch (err) {
    if (err instanceof ProfileError) throw new UsageError(`profile "${file}": ${err.message}`);
    throw err;
  }
}

export interface ProfileSettings {
  profile: Profile;
  endpoint: Endpoint;
  trust: TrustOptions;
  /** The proxy options with the profile's proxy mode applied, for proxyChoice. */
  proxyValues: CommandValues;
  /** The proxy URL in `proxyValues` is the profile's (not typed with --proxy): the user's own sign-in does not go to it. */
  profileProxy: boolean;
  /** A note for the log (a user without a secret), if any. */
  note?: string;
  /** Whether tunnels offer resume: the profile's `resume` and --no-resume. */
  resume: boolean;
}

/** The settings of `--profile FILE`; the trust flags cannot be combined with it, --proxy / --no-proxy override it. */
export function profileSettings(values: CommandValues, env: NodeJS.ProcessEnv = process.env): ProfileSettings {
  const file = String(values.profile);
  const given = [
    values.ca !== undefined && '--ca',
    values.pin !== undefined && '--pin',
    values['pin-only'] && '--pin-only',
    values.servername !== undefined && '--servername',
  ].filter(Boolean);
  if (given.length > 0) throw new UsageError(`${given.join(', ')}: the profile gives the TLS trust; use either --profile or these flags`);
  const profile = readProfileFile(file);

  let endpoint = parseEndpoint(profile.uri);
  let note: string | undefined;
  if (profile.user !== undefined) {
    const secret = env[SECRET_ENV];
    if (secret !== undefined && secret !== '') {
      const url = new URL(profile.uri);
      url.username = encodeURIComponent(profile.user);
      url.password = encodeURIComponent(secret);
      endpoint = parseEndpoint(url.toString());
    } else {
      note = `the profile names the user "${profile.user}": set ${SECRET_ENV} to send their secret (none is sent now)`;
    }
  }
  const trust: TrustOptions = {
    ca: profile.trust.ca.length > 0 ? profile.trust.ca : undefined,
    systemCa: values['system-ca'] === true,
    pin: profile.trust.pins.length > 0 ? profile.trust.pins : undefined,
    pinOnly: profile.trust.pinOnly,
    servername: profile.trust.servername,
  };
  if (values['system-ca'] && !endpoint.secure) throw new UsageError(`--system-ca: only for wss:// endpoints (${endpoint.display} has no TLS)`);
  // --proxy, --no-proxy or --pac on the command line win over the profile's proxy mode.
  const overridden = values.proxy !== undefined || values['no-proxy'] === true || values.pac !== undefined;
  const proxyValues: CommandValues = overridden
    ? values
    : profile.proxy === 'system'
      ? { ...values, proxy: 'system' }
      : profile.proxy === 'none'
        ? { ...values, 'no-proxy': true }
        : { ...values, proxy: profile.proxy.url };
  return {
    profile,
    endpoint,
    trust,
    proxyValues,
    profileProxy: !overridden && typeof profile.proxy === 'object',
    note,
    resume: profile.resume !== false && values['no-resume'] !== true,
  };
}
