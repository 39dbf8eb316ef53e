/**
 * Every change the tray and the endpoint editor make to the settings: the
 * endpoints (save, duplicate, delete with undo, select), the listen address
 * and the startup options, each checked with the core's own parsers before
 * it is written; and the active endpoint with its secret opened, for the
 * proxy. Opening the file (migration, recovery) is settingsFile.ts.
 */
import { isIP } from 'node:net';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Endpoint, EndpointError, parseEndpoint } from '../../shared/endpoint';
import type { EndpointInput, EndpointTrust, EndpointView, Outcome, ProxyAuthSetting, ProxySetting, SettingsPatch, SettingsView } from '../../shared/ipc';
import { proxyBinding } from '../../shared/endpointSettings';
import type { ProxySignIn } from '../../core/dial/endpointPlan';
import { advancedProblems, normalizeProxy, normalizeTrust, splitProxyCredentials } from './endpointOptions';
import { SecretCipher, SecretError, openSecret, sealSecret } from './secrets';
import type { ProxyCredential } from '../../core/localProxy/socksHandshake';
import { generateProxyCredential } from './localProxySignIn';
import { MAX_KEEPALIVE_SEC, MAX_PINS, StoredEndpoint, StoredProxyAuth, StoredSettings } from './settingsSchema';

/** The part of conf / electron-store the settings are kept in. */
export interface SettingsBackend {
  readonly path: string;
  readonly store: StoredSettings;
  set<K extends keyof StoredSettings>(key: K, value: StoredSettings[K]): void;
}

/** The active endpoint, ready for the proxy. */
export interface ResolvedEndpoint {
  id: string;
  name: string;
  endpoint: Endpoint;
  keepaliveMs: number;
  proxy: ProxySetting;
  trust: EndpointTrust;
  /** The proxy sign-in, its password decrypted. */
  proxyAuth: ProxySignIn;
  /** The user approved the custom proxy for their Windows sign-in (the system's proxies need no approval). */
  proxyWindowsSignIn: boolean;
  /** The passphrase of the PKCS#12 client certificate, decrypted. */
  clientPassphrase?: string;
  /** Offer the server to resume tunnels after a break (ConnectProxy's `resume`). */
  resume: boolean;
}

interface SettingsEvents {
  changed: [view: SettingsView];
}

/** How long a deleted endpoint can be restored ("Undo"). */
const RESTORE_WINDOW_MS = 5 * 60_000;

export class Settings extends EventEmitter<SettingsEvents> {
  private volatileCredential: ProxyCredential | undefined;
  private readonly deleted = new Map<string, { endpoint: StoredEndpoint; index: number; wasActive: boolean; at: number }>();

  constructor(
    private readonly backend: SettingsBackend,
    private readonly cipher: SecretCipher,
  ) {
    super();
  }

  get path(): string {
    return this.backend.path;
  }

  /** The stored settings, secrets still sealed. */
  stored(): StoredSettings {
    return structuredClone(this.backend.store);
  }

  view(): SettingsView {
    const s = this.backend.store;
    return {
      endpoints: s.endpoints.map(toView),
      activeEndpointId: s.activeEndpointId,
      listen: { ...s.listen },
      startTunnelAtLaunch: s.startTunnelAtLaunch,
      startAtLogin: s.startAtLogin,
      localProxyAuth: s.localProxyAuth?.mode ?? 'auto',
    };
  }

  /**
   * The local proxy credential, made on first use: a random user and
   * password, the password sealed with the OS key store in the file. Without
   * a key store it is kept in memory only (a new one each start) rather than
   * written in the clear.
   */
  localProxyCredential(): ProxyCredential {
    const stored = this.backend.store.localProxyAuth;
    if (stored?.user && stored.password) {
      try {
        return { user: stored.user, password: openSecret(this.cipher, stored.password) };
      } catch (err) {
        if (!(err instanceof SecretError)) throw err;
        // Sealed by another account or machine: a new one replaces it below.
      }
    }
    if (this.volatileCredential) return { ...this.volatileCredential };
    return this.keepCredential(generateProxyCredential());
  }

  /**
   * A new local proxy password, for one that was seen or copied where it
   * should not have been: the user name stays (PuTTY only needs the password
   * typed again), the old password stops working when the proxy restarts
   * (a 'changed' event; wireAppEvents restarts a running tunnel).
   */
  renewLocalProxyPassword(): ProxyCredential {
    const { user } = this.localProxyCredential();
    const renewed = this.keepCredential({ user, password: generateProxyCredential().password });
    // Kept in memory only (no key store just now): the old sealed password
    // must not come back with the key store.
    const stored = this.backend.store.localProxyAuth;
    if (this.volatileCredential && stored?.password) this.backend.set('localProxyAuth', { mode: stored.mode ?? 'auto' });
    this.changed();
    return renewed;
  }

  /** Keeps `credential` as the local proxy's: sealed in the file, or in memory without a key store. */
  private keepCredential(credential: ProxyCredential): ProxyCredential {
    let sealed: string;
    try {
      sealed = sealSecret(this.cipher, credential.password);
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      this.volatileCredential = { ...credential };
      return { ...credential };
    }
    this.volatileCredential = undefined;
    this.backend.set('localProxyAuth', { mode: this.backend.store.localProxyAuth?.mode ?? 'auto', user: credential.user, password: sealed });
    return { ...credential };
  }

  /**
   * Every secret the settings hold, opened and as the file keeps it (sealed,
   * base64), each with its user where it has one: for what must never show
   * one (the diagnostics file scrubs them all).
   */
  knownSecrets(): Array<string | { user: string; secret: string }> {
    const out: Array<string | { user: string; secret: string }> = [];
    const add = (sealed: string | undefined, user?: string) => {
      if (!sealed) return;
      out.push(sealed);
      try {
        const secret = openSecret(this.cipher, sealed);
        out.push(user ? { user, secret } : secret);
      } catch (err) {
        if (!(err instanceof SecretError)) throw err;
      }
    };
    const s = this.backend.store;
    for (const e of [...s.endpoints, ...[...this.deleted.values()].map((d) => d.endpoint)]) {
      add(e.secret, e.user);
      if (e.proxyAuth?.mode === 'password') add(e.proxyAuth.secret, e.proxyAuth.user);
      add(e.clientPassphrase);
    }
    add(s.localProxyAuth?.password, s.localProxyAuth?.user);
    if (this.volatileCredential) out.push({ user: this.volatileCredential.user, secret: this.volatileCredential.password });
    return out;
  }

  /** Points a dangling active id at the first endpoint (a hand-edited file). */
  repair(): void {
    const s = this.backend.store;
    if (!s.endpoints.some((e) => e.id === s.activeEndpointId)) {
      this.backend.set('activeEndpointId', s.endpoints[0]?.id ?? null);
    }
  }

  /**
   * Adds or updates an endpoint. A new endpoint becomes the active one when
   * none is, unless `keepActive` (an imported profile never selects itself).
   */
  saveEndpoint(input: EndpointInput, options: { keepActive?: boolean } = {}): Outcome<EndpointView> {
    const endpoints = this.stored().endpoints;
    const index = input.id === undefined ? -1 : endpoints.findIndex((e) => e.id === input.id);
    if (input.id !== undefined && index < 0) return fail('that endpoint no longer exists');
    const old = index >= 0 ? endpoints[index] : undefined;
    const checked = checkEndpointInput(input);
    if (!checked.ok) return checked;
    const { uri, user, secretFromUri } = checked.value;
    const advanced = checkAdvancedInput(input.proxy ?? old?.proxy ?? 'system', input.trust ?? old?.trust ?? {}, input.proxyAuth ?? viewAuth(old?.proxyAuth));
    if (!advanced.ok) return advanced;
    const sealing = this.sealedExtras(old, input, advanced.value);
    if (!sealing.ok) return sealing;

    // A stored secret belongs to its URI's origin: edited to another host, it is not kept (issue 10).
    let sealed = old && sameOrigin(old.uri, uri) ? old.secret : '';
    const secret = secretFromUri ?? input.secret;
    if (secret !== undefined) {
      if (secret === '') sealed = '';
      else {
        try {
          sealed = sealSecret(this.cipher, secret);
        } catch (err) {
          if (err instanceof SecretError) return fail(err.message);
          throw err;
        }
      }
    }
    if (user === '') sealed = '';
    const saved: StoredEndpoint = {
      id: old?.id ?? randomUUID(),
      name: input.name.trim(),
      uri,
      user,
      secret: sealed,
      keepaliveSec: input.keepaliveSec,
      proxy: advanced.value.proxy,
      proxyAuth: sealing.value.proxyAuth,
      resume: input.resume ?? old?.resume ?? true,
    };
    const approved = windowsApproval(old, advanced.value.proxy, input.proxyWindowsSignIn);
    if (approved !== undefined) saved.proxyWindowsSignIn = approved;
    if (Object.keys(advanced.value.trust).length > 0) saved.trust = advanced.value.trust;
    if (sealing.value.clientPassphrase !== '') saved.clientPassphrase = sealing.value.clientPassphrase;
    if (index >= 0) endpoints[index] = saved;
    else endpoints.push(saved);
    this.backend.set('endpoints', endpoints);
    if (this.backend.store.activeEndpointId === null && !options.keepActive) this.backend.set('activeEndpointId', saved.id);
    this.changed();
    return { ok: true, value: toView(saved) };
  }

  duplicateEndpoint(id: string): Outcome<EndpointView> {
    const endpoints = this.stored().endpoints;
    const index = endpoints.findIndex((e) => e.id === id);
    if (index < 0) return fail('that endpoint no longer exists');
    const names = new Set(endpoints.map((e) => e.name));
    let name = `${endpoints[index].name} (copy)`;
    for (let n = 2; names.has(name); n++) name = `${endpoints[index].name} (copy ${n})`;
    const copy = { ...endpoints[index], id: randomUUID(), name };
    endpoints.splice(index + 1, 0, copy);
    this.backend.set('endpoints', endpoints);
    this.changed();
    return { ok: true, value: toView(copy) };
  }

  deleteEndpoint(id: string, now = Date.now()): Outcome<null> {
    const endpoints = this.stored().endpoints;
    const index = endpoints.findIndex((e) => e.id === id);
    if (index < 0) return fail('that endpoint no longer exists');
    const [removed] = endpoints.splice(index, 1);
    const wasActive = this.backend.store.activeEndpointId === id;
    this.backend.set('endpoints', endpoints);
    if (wasActive) this.backend.set('activeEndpointId', endpoints[0]?.id ?? null);
    for (const [key, entry] of this.deleted) if (now - entry.at > RESTORE_WINDOW_MS) this.deleted.delete(key);
    this.deleted.set(id, { endpoint: removed, index, wasActive, at: now });
    this.changed();
    return { ok: true, value: null };
  }

  /** Undoes a delete (within a few minutes, in this run of the app). */
  restoreEndpoint(id: string, now = Date.now()): Outcome<EndpointView> {
    const entry = this.deleted.get(id);
    if (!entry || now - entry.at > RESTORE_WINDOW_MS) return fail('that endpoint can no longer be restored');
    this.deleted.delete(id);
    const endpoints = this.stored().endpoints;
    endpoints.splice(Math.min(entry.index, endpoints.length), 0, entry.endpoint);
    this.backend.set('endpoints', endpoints);
    if (entry.wasActive || this.backend.store.activeEndpointId === null) this.backend.set('activeEndpointId', id);
    this.changed();
    return { ok: true, value: toView(entry.endpoint) };
  }

  selectEndpoint(id: string): Outcome<null> {
    if (!this.backend.store.endpoints.some((e) => e.id === id)) return fail('that endpoint no longer exists');
    this.backend.set('activeEndpointId', id);
    this.changed();
    return { ok: true, value: null };
  }

  update(patch: SettingsPatch): Outcome<SettingsView> {
    // Checked before anything is written: a bad patch changes nothing.
    if (patch.localProxyAuth !== undefined && !(['off', 'on', 'auto'] as unknown[]).includes(patch.localProxyAuth)) {
      return fail('the proxy sign-in setting must be off, on or automatic');
    }
    if (patch.listen !== undefined) {
      const { host, port } = patch.listen;
      if (typeof host !== 'string' || host.trim() === '') return fail('the listen address needs a host, e.g. 127.0.0.1');
      if (!isIP(host.trim()) && !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host.trim())) {
        return fail('the listen host must be an IP address or a host name, e.g. 127.0.0.1');
      }
      if (!Number.isInteger(port) || port < 1 || port > 65535) return fail('the listen port must be a number from 1 to 65535');
      this.backend.set('listen', { host: host.trim(), port });
    }
    if (patch.startTunnelAtLaunch !== undefined) this.backend.set('startTunnelAtLaunch', !!patch.startTunnelAtLaunch);
    if (patch.startAtLogin !== undefined) this.backend.set('startAtLogin', !!patch.startAtLogin);
    if (patch.localProxyAuth !== undefined) {
      this.backend.set('localProxyAuth', { ...this.backend.store.localProxyAuth, mode: patch.localProxyAuth });
    }
    this.changed();
    return { ok: true, value: this.view() };
  }

  /** The active endpoint with its secret decrypted, for the proxy. */
  activeEndpoint(): Outcome<ResolvedEndpoint> {
    const s = this.backend.store;
    const stored = s.endpoints.find((e) => e.id === s.activeEndpointId);
    if (!stored) return fail('no endpoint is selected: add one in "Edit endpoints…"');
    return this.resolve(stored);
  }

  /**
   * An endpoint as edited but maybe not saved (the editor's "Test"): a secret
   * left undefined means the one stored for that id.
   */
  resolveInput(input: EndpointInput): Outcome<ResolvedEndpoint> {
    const checked = checkEndpointInput(input);
    if (!checked.ok) return checked;
    const stored = this.backend.store.endpoints.find((e) => e.id === input.id);
    const typed = checked.value.secretFromUri ?? input.secret;
    const { uri, user } = checked.value;
    const advanced = checkAdvancedInput(
      input.proxy ?? stored?.proxy ?? 'system',
      input.trust ?? stored?.trust ?? {},
      input.proxyAuth ?? viewAuth(stored?.proxyAuth),
    );
    if (!advanced.ok) return advanced;
    const resolved = this.resolve(
      {
        id: input.id ?? '',
        name: input.name.trim(),
        uri,
        user,
        // Test never sends the stored secret to another origin than the one it was saved for.
        secret: typed === undefined && stored && sameOrigin(stored.uri, uri) ? stored.secret : '',
        keepaliveSec: input.keepaliveSec,
        proxy: advanced.value.proxy,
        trust: advanced.value.trust,
        // The stored sealed values, for the same proxy and user only; what was typed and not saved replaces them below.
        proxyAuth:
          advanced.value.proxyAuth.mode === 'password'
            ? { ...advanced.value.proxyAuth, secret: storedProxySecret(stored, advanced.value.proxy, advanced.value.proxyAuth.user) }
            : { mode: 'windows' },
        clientPassphrase: stored?.clientPassphrase,
        resume: input.resume ?? stored?.resume ?? true,
        proxyWindowsSignIn: windowsApproval(stored, advanced.value.proxy, input.proxyWindowsSignIn),
      },
      typed,
    );
    if (!resolved.ok) return resolved;
    const typedProxySecret = advanced.value.proxySecret ?? input.proxySecret;
    if (resolved.value.proxyAuth.mode === 'password' && typedProxySecret !== undefined) resolved.value.proxyAuth.secret = typedProxySecret;
    if (input.clientPassphrase !== undefined) resolved.value.clientPassphrase = input.clientPassphrase;
    return resolved;
  }

  /**
   * The proxy sign-in and the client passphrase to store: what was typed,
   * sealed, or what was stored before. A password typed into the proxy URL
   * counts as typed (the URL is stored without it).
   */
  private sealedExtras(
    old: StoredEndpoint | undefined,
    input: EndpointInput,
    advanced: { proxy: ProxySetting; proxyAuth: ProxyAuthSetting; proxySecret?: string },
  ): Outcome<{ proxyAuth: StoredProxyAuth; clientPassphrase: string }> {
    const seal = (plain: string | undefined, before: string): Outcome<string> => {
      if (plain === undefined) return { ok: true, value: before };
      if (plain === '') return { ok: true, value: '' };
      try {
        return { ok: true, value: sealSecret(this.cipher, plain) };
      } catch (err) {
        if (err instanceof SecretError) return fail(err.message);
        throw err;
      }
    };
    let proxyAuth: StoredProxyAuth = { mode: 'windows' };
    if (advanced.proxyAuth.mode === 'password') {
      // The password stored for this proxy and user, never one saved for another (issue 24).
      const before = storedProxySecret(old, advanced.proxy, advanced.proxyAuth.user);
      const secret = seal(advanced.proxySecret ?? input.proxySecret, before);
      if (!secret.ok) return secret;
      proxyAuth = { mode: 'password', user: advanced.proxyAuth.user, secret: secret.value };
      if (advanced.proxyAuth.clearBasic) proxyAuth.clearBasic = true;
    }
    const passphrase = seal(input.clientPassphrase, old?.clientPassphrase ?? '');
    if (!passphrase.ok) return passphrase;
    return { ok: true, value: { proxyAuth, clientPassphrase: passphrase.value } };
  }

  /** `plainSecret` overrides the sealed one (a secret typed in the editor, not saved yet). */
  private resolve(stored: StoredEndpoint, plainSecret?: string): Outcome<ResolvedEndpoint> {
    let secret = plainSecret ?? '';
    if (plainSecret === undefined && stored.user !== '' && stored.secret !== '') {
      try {
        secret = openSecret(this.cipher, stored.secret);
      } catch (err) {
        if (err instanceof SecretError) return fail(`${stored.name}: ${err.message}`);
        throw err;
      }
    }
    if (stored.user === '') secret = '';
    let proxyAuth: ProxySignIn = { mode: 'windows' };
    let clientPassphrase: string | undefined;
    try {
      if (stored.proxyAuth?.mode === 'password') {
        const sealed = stored.proxyAuth.secret;
        proxyAuth = { mode: 'password', user: stored.proxyAuth.user, secret: sealed === '' ? '' : openSecret(this.cipher, sealed) };
        if (stored.proxyAuth.clearBasic) proxyAuth.clearBasic = true;
      }
      if (stored.clientPassphrase) clientPassphrase = openSecret(this.cipher, stored.clientPassphrase);
    } catch (err) {
      if (err instanceof SecretError)
        return fail(`${stored.name}: ${err.message.replace('the stored secret', 'the stored proxy password or certificate passphrase')}`);
      throw err;
    }
    try {
      const endpoint = endpointWithCredentials(stored.uri, stored.user, secret);
      return {
        ok: true,
        value: {
          id: stored.id,
          name: stored.name,
          endpoint,
          keepaliveMs: stored.keepaliveSec * 1000,
          proxy: stored.proxy ?? 'system',
          trust: structuredClone(stored.trust ?? {}),
          proxyAuth,
          proxyWindowsSignIn: approvedForWindowsSignIn(stored),
          clientPassphrase,
          resume: stored.resume,
        },
      };
    } catch (err) {
      if (err instanceof EndpointError) return fail(`${stored.name}: ${err.message}`);
      throw err;
    }
  }

  private changed(): void {
    this.emit('changed', this.view());
  }
}

/**
 * Whether two endpoint URIs have the same origin (scheme, host, port): what a
 * stored secret is bound to. Shared with the editor, which says so in the form.
 */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** Validates what the editor sent; userinfo typed into the URI moves to user/secret. */
function checkEndpointInput(input: EndpointInput): Outcome<{ uri: string; user: string; secretFromUri?: string }> {
  if (typeof input.name !== 'string' || input.name.trim() === '') return fail('the endpoint needs a name');
  if (input.name.trim().length > 200) return fail('the name is longer than 200 characters');
  if (!Number.isInteger(input.keepaliveSec) || input.keepaliveSec < 0 || input.keepaliveSec > MAX_KEEPALIVE_SEC) {
    return fail(`keepalive must be a whole number of seconds from 0 (off) to ${MAX_KEEPALIVE_SEC}`);
  }
  let parsed: Endpoint;
  try {
    parsed = parseEndpoint(String(input.uri));
  } catch (err) {
    if (err instanceof EndpointError) return fail(err.message);
    throw err;
  }
  let user = (input.user ?? '').trim();
  let secretFromUri: string | undefined;
  if (parsed.credentials) {
    if (user !== '' && user !== parsed.credentials.user) return fail('give the user either in the URI or in the User field, not both');
    user = parsed.credentials.user;
    if (parsed.credentials.secret !== '') secretFromUri = parsed.credentials.secret;
  }
  if (/[:\r\n]/.test(user)) return fail('the user name must not contain ":" or line breaks');
  return { ok: true, value: { uri: parsed.url, user, secretFromUri } };
}

/**
 * Checks the proxy, its sign-in and the trust settings with the core's
 * parsers; the first problem is the error. `user:password@` in a custom proxy
 * URL moves to the sign-in (`proxySecret` is the password typed that way).
 */
function checkAdvancedInput(
  proxy: ProxySetting,
  trust: EndpointTrust,
  auth: ProxyAuthSetting,
): Outcome<{ proxy: ProxySetting; trust: EndpointTrust; proxyAuth: ProxyAuthSetting; proxySecret?: string }> {
  if (proxy !== 'system' && proxy !== 'none' && (typeof proxy !== 'object' || proxy === null || typeof proxy.url !== 'string')) {
    return fail('the proxy must be "system", "none" or a URL');
  }
  if (typeof trust !== 'object' || trust === null) return fail('the trust settings are malformed');
  if (typeof auth !== 'object' || auth === null || (auth.mode !== 'windows' && auth.mode !== 'password')) return fail('the proxy sign-in is malformed');
  const clearBasic = auth.mode === 'password' && auth.clearBasic === true ? { clearBasic: true } : {};
  let proxyAuth: ProxyAuthSetting = auth.mode === 'password' ? { mode: 'password', user: String(auth.user ?? '').trim(), ...clearBasic } : { mode: 'windows' };
  let proxySecret: string | undefined;
  let setting = normalizeProxy(proxy);
  if (typeof setting === 'object') {
    const split = splitProxyCredentials(setting.url);
    if (split.user !== undefined) {
      setting = { url: split.url };
      if (split.user !== '') proxyAuth = { mode: 'password', user: split.user, ...clearBasic };
      proxySecret = split.password;
    }
  }
  const normal = normalizeTrust(trust);
  if ((normal.pins?.length ?? 0) > MAX_PINS) return fail(`at most ${MAX_PINS} pinned fingerprints`);
  const problems = advancedProblems(setting, normal, proxyAuth);
  const first = problems.proxyUrl ?? problems.proxyUser ?? problems.caFile ?? problems.pins ?? problems.pinOnly ?? problems.servername ?? problems.clientCert;
  if (first !== undefined) return fail(first);
  return { ok: true, value: { proxy: setting, trust: normal, proxyAuth, proxySecret } };
}

function viewAuth(stored: StoredProxyAuth | undefined): ProxyAuthSetting {
  if (stored?.mode !== 'password') return { mode: 'windows' };
  return stored.clearBasic ? { mode: 'password', user: stored.user, clearBasic: true } : { mode: 'password', user: stored.user };
}

/** The sealed proxy password stored for `proxy` and `user`; '' when it was saved for another proxy or user (or none was). */
function storedProxySecret(stored: StoredEndpoint | undefined, proxy: ProxySetting, user: string): string {
  const auth = stored?.proxyAuth;
  if (auth?.mode !== 'password' || auth.user !== user) return '';
  return proxyBinding(stored!.proxy ?? 'system') === proxyBinding(proxy) ? auth.secret : '';
}

/**
 * The approval of the Windows sign-in to store with `proxy`: as the input
 * says, or when it says nothing, the one stored before for the same custom
 * proxy. System and None need none.
 */
function windowsApproval(old: StoredEndpoint | undefined, proxy: ProxySetting, approve: boolean | undefined): string | undefined {
  if (typeof proxy !== 'object' || approve === false) return undefined;
  const binding = proxyBinding(proxy);
  if (approve === true) return binding;
  return old?.proxyWindowsSignIn === binding ? binding : undefined;
}

/** Whether the stored endpoint's custom proxy is the one approved for the Windows sign-in. */
function approvedForWindowsSignIn(stored: StoredEndpoint): boolean {
  return typeof stored.proxy === 'object' && stored.proxyWindowsSignIn === proxyBinding(stored.proxy);
}

/** The core endpoint for a stored URI plus credentials; its `display` hides the secret. */
export function endpointWithCredentials(uri: string, user: string, secret: string): Endpoint {
  if (user === '') return parseEndpoint(uri);
  const url = new URL(uri);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(secret);
  return parseEndpoint(url.toString());
}

function toView(e: StoredEndpoint): EndpointView {
  return {
    id: e.id,
    name: e.name,
    uri: e.uri,
    user: e.user,
    hasSecret: e.secret !== '',
    keepaliveSec: e.keepaliveSec,
    proxy: structuredClone(e.proxy ?? 'system'),
    proxyAuth: viewAuth(e.proxyAuth),
    hasProxySecret: e.proxyAuth?.mode === 'password' && e.proxyAuth.secret !== '',
    proxyWindowsSignIn: approvedForWindowsSignIn(e),
    trust: structuredClone(e.trust ?? {}),
    hasClientPassphrase: !!e.clientPassphrase,
    resume: e.resume,
  };
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
