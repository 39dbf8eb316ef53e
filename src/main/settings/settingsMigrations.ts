/**
 * Versioned migrations of the settings file. Each step takes the file as
 * version N and returns it as version N+1; `migrateSettings` runs the steps
 * from the file's version up to SETTINGS_VERSION. A file without `version`
 * is version 1.
 *
 * Version history:
 *   1  the first tray prototype: `endpoints: [{ name, url }]` with the
 *      credentials inside the URL, `activeEndpoint` by name, `listenPort`.
 *   2  endpoints get an id, separate user and encrypted secret, keepalive;
 *      `activeEndpointId`; `listen: { host, port }`; start at launch/login.
 *   3  endpoints get `proxy` ('system', 'none' or `{ url }`; existing ones
 *      'system') and an optional `trust` (CA file, OS store, pins, pin only,
 *      SNI); existing ones have none, so they connect as before.
 *   4  endpoints get `proxyAuth`: the Windows sign-in by default (Negotiate or
 *      NTLM as the user, nothing stored), or a user and a sealed password; a
 *      user that version 3 kept in a custom proxy URL moves there (the URL
 *      keeps host and port only). Optional client certificate files in
 *      `trust` and a sealed `clientPassphrase`; existing endpoints have none.
 *   5  endpoints get `resume` (issue #20): tunnels are resumed after a break
 *      of their WebSocket; on for existing ones, as for new ones.
 */
import { SETTINGS_VERSION } from './settingsSchema';
import { DEFAULT_KEEPALIVE_SEC, DEFAULT_PROXY_HOST, DEFAULT_PROXY_PORT } from '../../shared/defaults';

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface MigrationContext {
  /** Encrypts a secret found in an old file; undefined when it cannot be stored safely. */
  sealSecret(secret: string): string | undefined;
}

export interface MigrationResult {
  settings: Record<string, unknown>;
  /** The version the file had. */
  from: number;
  /** What the user should know about (a secret that could not be kept…). */
  notes: string[];
}

type Json = Record<string, unknown>;
type Step = (file: Json, ctx: MigrationContext, notes: string[]) => Json;

/** steps[n] turns version n into version n+1. */
const steps: Record<number, Step> = {
  1: (file, ctx, notes) => {
    const old = Array.isArray(file.endpoints) ? file.endpoints : [];
    const endpoints = old.map((entry: unknown, index) => {
      const e = (entry ?? {}) as Json;
      const name = typeof e.name === 'string' ? e.name : `Endpoint ${index + 1}`;
      const { uri, user, secret } = splitUserinfo(typeof e.url === 'string' ? e.url : '');
      let sealed = '';
      if (secret !== '') {
        sealed = ctx.sealSecret(secret) ?? '';
        if (sealed === '') notes.push(`the secret of "${name}" could not be stored encrypted: enter it again`);
      }
      return { id: `ep${index + 1}`, name, uri, user, secret: sealed, keepaliveSec: DEFAULT_KEEPALIVE_SEC };
    });
    const active = endpoints.find((e) => e.name === file.activeEndpoint) ?? endpoints[0];
    const port = typeof file.listenPort === 'number' ? file.listenPort : DEFAULT_PROXY_PORT;
    return {
      version: 2,
      endpoints,
      activeEndpointId: active?.id ?? null,
      listen: { host: DEFAULT_PROXY_HOST, port },
      startTunnelAtLaunch: false,
      startAtLogin: false,
    };
  },
  2: (file) => {
    const old = Array.isArray(file.endpoints) ? file.endpoints : [];
    const endpoints = old.map((entry: unknown) => {
      const e = { ...((entry ?? {}) as Json) };
      delete e.trust;
      return { ...e, proxy: 'system' };
    });
    return { ...file, version: 3, endpoints };
  },
  3: (file) => {
    const old = Array.isArray(file.endpoints) ? file.endpoints : [];
    const endpoints = old.map((entry: unknown) => {
      const e = { ...((entry ?? {}) as Json) };
      const proxy = e.proxy as { url?: unknown } | string | undefined;
      let proxyAuth: Json = { mode: 'windows' };
      if (proxy && typeof proxy === 'object' && typeof proxy.url === 'string') {
        // Version 3 refused a password in the URL; a user alone was allowed.
        const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/@:]*)(?::[^/@]*)?@(.*)$/i.exec(proxy.url);
        if (match) {
          e.proxy = { url: match[1] + match[3] };
          let user = match[2];
          try {
            user = decodeURIComponent(user);
          } catch {
            // kept as written
          }
          if (user !== '') proxyAuth = { mode: 'password', user, secret: '' };
        }
      }
      return { ...e, proxyAuth };
    });
    return { ...file, version: 4, endpoints };
  },
  4: (file) => {
    const old = Array.isArray(file.endpoints) ? file.endpoints : [];
    const endpoints = old.map((entry: unknown) => ({ ...((entry ?? {}) as Json), resume: true }));
    return { ...file, version: 5, endpoints };
  },
};

/**
 * Brings a parsed settings file to the current version.
 * @throws {MigrationError} when it is not an object or is from a newer build.
 */
export function migrateSettings(raw: unknown, ctx: MigrationContext): MigrationResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MigrationError('the settings file does not hold a JSON object');
  }
  let file = raw as Json;
  const from = file.version === undefined ? 1 : file.version;
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 1) {
    throw new MigrationError(`the settings file has an invalid version (${JSON.stringify(file.version)})`);
  }
  if (from > SETTINGS_VERSION) {
    throw new MigrationError(`the settings file was written by a newer version of WSSH (format ${from}, this one reads up to ${SETTINGS_VERSION})`);
  }
  const notes: string[] = [];
  for (let v = from; v < SETTINGS_VERSION; v++) file = steps[v](file, ctx, notes);
  return { settings: file, from, notes };
}

/** `wss://user:secret@gw/ssh` → the URI without userinfo, and the decoded user and secret. */
function splitUserinfo(url: string): { uri: string; user: string; secret: string } {
  const match = /^([a-z]+:\/\/)([^/@]*)@(.*)$/i.exec(url);
  if (!match) return { uri: url, user: '', secret: '' };
  const [userPart, ...rest] = match[2].split(':');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return { uri: match[1] + match[3], user: decode(userPart), secret: decode(rest.join(':')) };
}
