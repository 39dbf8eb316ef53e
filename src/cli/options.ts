/** What the commands share: parsed option values and their checks. */
import fs from 'node:fs';
import type { Endpoint } from '../shared/endpoint';
import { TrustError, TrustOptions, checkTrustOptions } from '../core/dial/trust/trust';
import { ProxyConfigError, UpstreamProxy, parseProxyUrl, resolveProxy } from '../core/upstream/upstreamProxy';
import { DEFAULT_MAX_BUFFERED } from '../core/tunnel/bufferBudget';
import { DEFAULT_HIGH_WATER_MARK } from '../core/tunnel/relay';
import { describeConfigError } from './configRemedies';

export type CommandValues = Record<string, string | boolean | string[] | undefined>;

/** An error in what the user typed: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** A `--name SECONDS` option as milliseconds; 0 allowed (it turns a feature off). */

export function secondsOption(values: CommandValues, name: string): number {
  const text = String(values[name]);
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`--${name} "${text}": expected a number of seconds`);
  return Math.round(Number(text) * 1000);
}

/**
 * `--max-buffered MIB`: the process's budget of bytes buffered across all
 * tunnels (bufferBudget.ts), in bytes; absent for the default.
 */
export function maxBufferedOption(values: CommandValues): number {
  const text = values['max-buffered'] === undefined ? String(DEFAULT_MAX_BUFFERED / MiB) : String(values['max-buffered']);
  if (!/^\d{1,7}$/.test(text) || Number(text) === 0) {
    throw new UsageError(`--max-buffered "${text}": expected a whole number of MiB, at least 1`);
  }
  return Number(text) * MiB;
}

const MiB = 1024 * 1024;

/** `--tunnel-buffer KIB`: the per-tunnel high-water mark of the relay, absent for the default. */
export function tunnelBufferOption(values: CommandValues): number {
  const text = values['tunnel-buffer'] === undefined ? String(DEFAULT_HIGH_WATER_MARK / 1024) : String(values['tunnel-buffer']);
  if (!/^\d{1,7}$/.test(text) || Number(text) < 16) throw new UsageError(`--tunnel-buffer "${text}": expected a whole number of KiB, at least 16`);
  return Number(text) * 1024;
}

/** The `--ca FILE` options (one or more): their PEM texts, or undefined when none is given. */
function caOption(values: CommandValues): string[] | undefined {
  const files = listOption(values.ca);
  if (files.length === 0) return undefined;
  return files.map((file) => {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--ca "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca "${file}": no PEM certificate in it`);
    return text;
  });
}

/**
 * The TLS trust options (--ca, --system-ca, --pin, --pin-only, --servername),
 * checked. They only mean something for wss://: given for a ws:// endpoint
 * they are an error, not silently ignored.
 */
export function trustOptions(values: CommandValues, endpoint: Endpoint): TrustOptions {
  const pins = listOption(values.pin);
  const servername = typeof values.servername === 'string' ? values.servername : undefined;
  if (!endpoint.secure) {
    const given = [
      values['system-ca'] && '--system-ca',
      pins.length > 0 && '--pin',
      values['pin-only'] && '--pin-only',
      servername !== undefined && '--servername',
    ].filter(Boolean);
    if (given.length > 0) throw new UsageError(`${given.join(', ')}: only for wss:// endpoints (${endpoint.display} has no TLS)`);
  }
  const trust: TrustOptions = {
    ca: caOption(values),
    systemCa: values['system-ca'] === true,
    pin: pins.length > 0 ? pins : undefined,
    pinOnly: values['pin-only'] === true,
    servername,
  };
  try {
    checkTrustOptions(trust);
  } catch (err) {
    if (!(err instanceof TrustError)) throw err;
    throw new UsageError(describeConfigError(err));
  }
  return trust;
}

/**
 * `--proxy URL` (that proxy), `--no-proxy` (none, whatever the environment
 * says) or neither (undefined: from HTTPS_PROXY / HTTP_PROXY and NO_PROXY).
 */
export function proxyOption(values: CommandValues): string | false | undefined {
  const proxy = typeof values.proxy === 'string' ? values.proxy : undefined;
  if (proxy !== undefined && values['no-proxy']) throw new UsageError('--proxy and --no-proxy: give one of them');
  if (values['no-proxy']) return false;
  if (proxy === undefined) return undefined;
  try {
    parseProxyUrl(proxy);
  } catch (err) {
    if (err instanceof ProxyConfigError) throw new UsageError(describeConfigError(err));
    throw err;
  }
  return proxy;
}

/** The proxy a dial to `endpoint` will use with this setting, for the log; an unusable environment value is a usage error. */
export function effectiveProxy(endpoint: Endpoint, setting: string | false | undefined): UpstreamProxy | undefined {
  try {
    return resolveProxy(endpoint, setting);
  } catch (err) {
    if (err instanceof ProxyConfigError) throw new UsageError(describeConfigError(err));
    throw err;
  }
}

/** A string option given zero, one or more times, as a list. */
export function listOption(value: CommandValues[string]): string[] {
  if (value === undefined || typeof value === 'boolean') return [];
  return Array.isArray(value) ? value : [value];
}

/** The options of `connect` and `client` that decide how the endpoint is reached, for util.parseArgs. */
export const ENDPOINT_OPTIONS = {
  ca: { type: 'string', multiple: true },
  'system-ca': { type: 'boolean', default: false },
  pin: { type: 'string', multiple: true },
  'pin-only': { type: 'boolean', default: false },
  servername: { type: 'string' },
  proxy: { type: 'string' },
  'no-proxy': { type: 'boolean', default: false },
  pac: { type: 'string' },
  'proxy-clear-basic': { type: 'boolean', default: false },
  cert: { type: 'string' },
  key: { type: 'string' },
  pfx: { type: 'string' },
  'no-resume': { type: 'boolean', default: false },
} as const;

/** Their lines in the commands' --help. */
export const ENDPOINT_OPTIONS_USAGE = `  --proxy URL              reach the endpoint through this HTTP proxy (CONNECT),
                           http://[USER:PASSWORD@]HOST:PORT (default: from
                           HTTPS_PROXY for wss://, HTTP_PROXY for ws://, unless
                           NO_PROXY names the endpoint's host)
  --proxy system           the system's proxy: on Windows the user's Internet
                           Settings (the proxy, its exceptions, its PAC script);
                           elsewhere the environment, as without the option
  --pac URL|FILE           ask this proxy auto-config script which proxy to use
                           (PROXY a:3128; PROXY b:3128; DIRECT: the next when one
                           cannot be reached)
  --no-proxy               connect directly, whatever the environment says
  --proxy-clear-basic      send a DOMAIN\\user's password as Basic to an http://
                           proxy that asks for nothing stronger (anyone on the
                           way reads it; without this it is not sent)
  --ca FILE                also trust this CA certificate (PEM) for wss://;
                           may be repeated
  --system-ca              also trust the operating system's certificate store
  --pin FINGERPRINT        the endpoint's certificate must have this sha256
                           fingerprint (sha256/BASE64 or AB:CD:… hex), on top of
                           the usual checks; may be repeated (any one matches)
  --pin-only               the pin replaces the issuer and name checks: accepts
                           a self-signed certificate that matches --pin
  --servername NAME        TLS server name (SNI) to send and to check in the
                           certificate, instead of the endpoint's host
  --cert FILE --key FILE   present this client certificate and key (PEM) when
                           the endpoint asks for one
  --pfx FILE               the same from a PKCS#12 file; its passphrase from
                           WSSH_PFX_PASSPHRASE, or asked on the terminal
  --no-resume              do not offer the server to resume tunnels after a break
                           of their WebSocket (a drop, a sleep, a proxy's cut):
                           a break then ends the SSH session, as with old servers
`;
