/**
 * The settings file: its shape, its JSON schema (given to electron-store, or
 * to `conf` under Node, which validates with it on load and on every write),
 * and the first-run defaults.
 */
import { DEFAULT_KEEPALIVE_SEC, DEFAULT_PROXY_HOST, DEFAULT_PROXY_PORT, LOCAL_ENDPOINT_URI, MAX_KEEPALIVE_SEC } from '../../shared/defaults';
import type { EndpointTrust, LocalProxyAuthMode, ProxySetting } from '../../shared/ipc';

/**
 * The proxy sign-in as stored: the password sealed like the endpoint's secret
 * ('' for none), for the endpoint's proxy as it is (settingsEditor.ts drops it
 * when the proxy or the user changes); `clearBasic`, the user's choice to send
 * a `DOMAIN\\user` password as Basic over plain http://.
 */
export type StoredProxyAuth = { mode: 'windows' } | { mode: 'password'; user: string; secret: string; clearBasic?: boolean };

/** The version written by this build; older files are migrated (settingsMigrations.ts). */
export const SETTINGS_VERSION = 5;

export interface StoredEndpoint {
  id: string;
  name: string;
  /** ws:// or wss:// URI without userinfo. */
  uri: string;
  user: string;
  /** The secret, encrypted with the OS key store, base64; '' for none. */
  secret: string;
  keepaliveSec: number;
  /** How the endpoint is reached: the system proxy (default), none, or a proxy URL. */
  proxy: ProxySetting;
  /** TLS trust beyond the default CAs, and the client certificate's files; absent for none. */
  trust?: EndpointTrust;
  /** How the app signs in to the proxy; absent means the Windows sign-in (the default). */
  proxyAuth?: StoredProxyAuth;
  /**
   * The origin of the custom proxy the user approved for their Windows
   * sign-in (Negotiate); absent: none. The system's proxies need no approval;
   * a custom proxy another than this one (an imported profile's) gets no
   * Windows sign-in until the user approves it.
   */
  proxyWindowsSignIn?: string;
  /** The passphrase of `trust.clientPfx`, sealed; absent or '' for none. */
  clientPassphrase?: string;
  /** Offer the server to resume tunnels after a break of their WebSocket (src/core/dial/resumingTunnel.ts). */
  resume: boolean;
}

export interface StoredSettings {
  version: number;
  endpoints: StoredEndpoint[];
  activeEndpointId: string | null;
  listen: { host: string; port: number };
  startTunnelAtLaunch: boolean;
  startAtLogin: boolean;
  /**
   * The local proxy credential (proxyCredential.ts). Optional, so files of
   * every version load without a migration: absent means mode 'auto' and no
   * credential generated yet.
   */
  localProxyAuth?: StoredLocalProxyAuth;
}

export interface StoredLocalProxyAuth {
  mode: LocalProxyAuthMode;
  /** The generated user name (not a secret: it is shown). */
  user?: string;
  /** The generated password, encrypted with the OS key store like an endpoint secret, base64. */
  password?: string;
}

/** The default endpoint id of a first run: the `wssh server` default on this machine. */
export const DEFAULT_ENDPOINT_ID = 'local';

/** What a first run (or a reset after a corrupt file) starts with. */
export function defaultSettings(): StoredSettings {
  return {
    version: SETTINGS_VERSION,
    endpoints: [
      {
        id: DEFAULT_ENDPOINT_ID,
        name: 'Local WSSH server',
        uri: LOCAL_ENDPOINT_URI,
        user: '',
        secret: '',
        keepaliveSec: DEFAULT_KEEPALIVE_SEC,
        proxy: 'system',
        resume: true,
      },
    ],
    activeEndpointId: DEFAULT_ENDPOINT_ID,
    listen: { host: DEFAULT_PROXY_HOST, port: DEFAULT_PROXY_PORT },
    startTunnelAtLaunch: false,
    startAtLogin: false,
  };
}

/** Largest keepalive interval accepted, in seconds (shared/defaults.ts: the editor checks it too). */
export { MAX_KEEPALIVE_SEC };

/** How many pins one endpoint may have (a certificate and its successor, and a few more). */
export const MAX_PINS = 16;

/**
 * Per-property schemas, as conf/electron-store take them (`schema` option):
 * they wrap it in `{ type: 'object', properties: … }`.
 */
export const SETTINGS_SCHEMA = {
  version: { type: 'integer', minimum: 1 },
  endpoints: {
    type: 'array',
    maxItems: 200,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name', 'uri', 'user', 'secret', 'keepaliveSec', 'proxy', 'resume'],
      properties: {
        id: { type: 'string', minLength: 1, maxLength: 64 },
        name: { type: 'string', maxLength: 200 },
        uri: { type: 'string', pattern: '^wss?://', maxLength: 2048 },
        user: { type: 'string', maxLength: 256 },
        secret: { type: 'string', maxLength: 8192 },
        keepaliveSec: { type: 'integer', minimum: 0, maximum: MAX_KEEPALIVE_SEC },
        proxy: {
          anyOf: [
            { type: 'string', enum: ['system', 'none'] },
            {
              type: 'object',
              additionalProperties: false,
              required: ['url'],
              properties: { url: { type: 'string', minLength: 1, maxLength: 2048 } },
            },
          ],
        },
        trust: {
          type: 'object',
          additionalProperties: false,
          properties: {
            caFile: { type: 'string', minLength: 1, maxLength: 4096 },
            systemCa: { type: 'boolean' },
            pins: { type: 'array', maxItems: MAX_PINS, items: { type: 'string', minLength: 1, maxLength: 200 } },
            pinOnly: { type: 'boolean' },
            servername: { type: 'string', minLength: 1, maxLength: 253 },
            clientCert: { type: 'string', minLength: 1, maxLength: 4096 },
            clientKey: { type: 'string', minLength: 1, maxLength: 4096 },
            clientPfx: { type: 'string', minLength: 1, maxLength: 4096 },
          },
        },
        proxyAuth: {
          anyOf: [
            { type: 'object', additionalProperties: false, required: ['mode'], properties: { mode: { const: 'windows' } } },
            {
              type: 'object',
              additionalProperties: false,
              required: ['mode', 'user', 'secret'],
              properties: {
                mode: { const: 'password' },
                user: { type: 'string', minLength: 1, maxLength: 256 },
                secret: { type: 'string', maxLength: 8192 },
                clearBasic: { type: 'boolean' },
              },
            },
          ],
        },
        clientPassphrase: { type: 'string', maxLength: 8192 },
        resume: { type: 'boolean' },
        proxyWindowsSignIn: { type: 'string', minLength: 1, maxLength: 2048 },
      },
    },
  },
  activeEndpointId: { type: ['string', 'null'] },
  listen: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'port'],
    properties: {
      host: { type: 'string', minLength: 1, maxLength: 255 },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
    },
  },
  startTunnelAtLaunch: { type: 'boolean' },
  startAtLogin: { type: 'boolean' },
  localProxyAuth: {
    type: 'object',
    additionalProperties: false,
    required: ['mode'],
    properties: {
      mode: { type: 'string', enum: ['off', 'on', 'auto'] },
      user: { type: 'string', minLength: 1, maxLength: 256 },
      password: { type: 'string', minLength: 1, maxLength: 8192 },
    },
  },
} as const;
