/**
 * The user's saved sessions of PuTTY, KiTTY and WinSCP, read from the
 * registry, and switching one to this app's proxy and back.
 *
 * All three keep a session as a key under their own Sessions key, named by
 * PuTTY's escaping of the session name (%XX; WinSCP adds `/` for folders),
 * with the same proxy values: ProxyMethod (0 none, 1 SOCKS 4, 2 SOCKS 5,
 * 3 HTTP, 4 Telnet, 5 local command), ProxyHost, ProxyPort and
 * ProxyLocalhost (without which a target on localhost bypasses the proxy).
 * WinSCP documents them among its raw site settings; its FTP sites have
 * more (FtpProxyLogonType), which a switch leaves alone.
 *
 * Reading never writes. A switch first stores the session's four values as
 * they were (a missing one as missing) in SessionBackups, then writes ours;
 * if a write fails (a key the user may not write), what was written is put
 * back. "Switch back" restores the stored values exactly and deletes the
 * ones that did not exist, but only while the session still has the values
 * the switch wrote: a session changed since is not overwritten.
 */
import type { ListenAddress } from '../../shared/ipc';
import type { SavedSession, SavedSessionsView, SessionClient, SessionClientView, SessionRef, SessionRoute } from '../../shared/sessions';
import type { Outcome, PasswordRenewal } from '../../shared/ipc';
import {
  RegRunner,
  RegValue,
  RegValues,
  RegistryError,
  fullKeyName,
  isMissingKey,
  keyValues,
  parseRegQuery,
  regAddData,
  regComplaint,
} from '../../core/windowsRegistry';
import type { SessionBackups, SwitchBackup } from './sessionBackups';
import { puttyProxySettings } from './puttyReg';
import { SecretError } from '../settings/secrets';

interface ClientSpec {
  client: SessionClient;
  label: string;
  /** The Sessions key under HKCU. */
  key: string;
}

export const SESSION_CLIENTS: readonly ClientSpec[] = [
  { client: 'putty', label: 'PuTTY', key: 'HKCU\\Software\\SimonTatham\\PuTTY\\Sessions' },
  { client: 'kitty', label: 'KiTTY', key: 'HKCU\\Software\\9bis.com\\KiTTY\\Sessions' },
  { client: 'winscp', label: 'WinSCP', key: 'HKCU\\Software\\Martin Prikryl\\WinSCP 2\\Sessions' },
];

/** The values a switch writes and a switch back restores. */
export const PROXY_VALUE_NAMES = ['ProxyMethod', 'ProxyHost', 'ProxyPort', 'ProxyLocalhost'] as const;

const PROXY_METHODS: Record<number, string> = { 1: 'SOCKS 4', 2: 'SOCKS 5', 3: 'HTTP', 4: 'Telnet', 5: 'local command' };
const HTTP = 3;

type LocalCredential = { user: string; password: string };

/** A session as the registry holds it: its key under the client's Sessions key, and its values. */
interface StoredSession {
  key: string;
  values: RegValues;
}

/** One installed client's sessions, as read. */
interface ClientSessions {
  spec: ClientSpec;
  sessions: StoredSession[];
}

export interface SavedSessionsOptions {
  /** reg.exe; undefined where there is no Windows registry. */
  reg: RegRunner | undefined;
  backups: SessionBackups;
  /** The address the app's proxy listens on, read at each call. */
  listen(): ListenAddress;
  /**
   * The local proxy's credential when clients must sign in (proxyCredential.ts),
   * read at each switch: the session then gets ProxyUsername/ProxyPassword too,
   * or it would meet a 407.
   */
  credential?(): LocalCredential | undefined;
  log?(level: 'info' | 'warn', text: string): void;
}

export class SavedSessions {
  constructor(private readonly options: SavedSessionsOptions) {}

  /** Every installed client's sessions; reads only. */
  async list(): Promise<SavedSessionsView> {
    if (!this.options.reg) return { clients: [], problem: 'saved sessions are read from the Windows registry, which this system does not have' };
    const { clients, problems } = await this.readAll();
    const views: SessionClientView[] = clients.map(({ spec, sessions }) => ({
      client: spec.client,
      label: spec.label,
      sessions: sessions.map(({ key, values }) => this.describe(spec, key, values)).sort((a, b) => a.name.localeCompare(b.name)),
    }));
    return problems.length > 0 ? { clients: views, problem: problems.join('; ') } : { clients: views };
  }

  /**
   * After a new local proxy password: every session that signs in to this
   * app's proxy with the old one gets the new one, however it was set up (a
   * switch, or the copied settings typed in by hand). Sessions with other
   * values are left alone.
   */
  async renewPassword(before: LocalCredential, after: LocalCredential): Promise<PasswordRenewal> {
    if (!this.options.reg) return { updated: [] };
    const { clients, problems } = await this.readAll();
    const updated: string[] = [];
    for (const { spec, sessions } of clients) {
      for (const { key, values } of sessions) {
        if (this.route(values).route !== 'ours') continue;
        if (values.get('ProxyUsername')?.data !== before.user || values.get('ProxyPassword')?.data !== before.password) continue;
        const what = `${spec.label} session "${unescapeSessionName(key)}"`;
        const failure = await this.write(`${spec.key}\\${key}`, 'ProxyPassword', { type: 'REG_SZ', data: after.password });
        if (failure) problems.push(`cannot give ${what} the new password: ${failure}`);
        else updated.push(what);
      }
    }
    if (updated.length > 0) this.options.log?.('info', `the new proxy password was written into ${updated.join(', ')}`);
    return problems.length > 0 ? { updated, problem: problems.join('; ') } : { updated };
  }

  /** Each installed client's sessions with their values, and what could not be read. */
  private async readAll(): Promise<{ clients: ClientSessions[]; problems: string[] }> {
    const clients: ClientSessions[] = [];
    const problems: string[] = [];
    for (const spec of SESSION_CLIENTS) {
      const result = await this.options.reg!.run(['query', spec.key, '/s']);
      if (result.code !== 0) {
        // A client that is not installed has no Sessions key: not listed.
        // Any other failure (access denied) is said, not taken for "not installed".
        if (!isMissingKey(result)) problems.push(`${spec.label}'s sessions cannot be read: ${regComplaint(result)}`);
        continue;
      }
      const prefix = fullKeyName(spec.key) + '\\';
      const sessions: StoredSession[] = [];
      for (const [name, values] of parseRegQuery(result.stdout)) {
        if (!name.startsWith(prefix)) continue;
        const key = name.slice(prefix.length);
        if (key === '' || key.includes('\\')) continue;
        sessions.push({ key, values });
      }
      clients.push({ spec, sessions });
    }
    return { clients, problems };
  }

  /** Points the session at this app's proxy, keeping its previous values. */
  async switchToApp(ref: SessionRef): Promise<Outcome<SavedSession>> {
    const found = await this.read(ref);
    if (!found.ok) return found;
    const { spec, fullKey, values } = found.value;
    const name = unescapeSessionName(ref.key);
    if (this.route(values).route === 'ours') return { ok: false, error: `${spec.label} session "${name}" already goes through this app's proxy` };
    const ours = this.ourValues();
    const before: Record<string, RegValue | null> = {};
    for (const v of Object.keys(ours)) before[v] = values.get(v) ?? null;
    // What was written, to tell a later change by the user; the app's own
    // password is left out of the backup file (the check skips it).
    const { ProxyPassword: _password, ...wrote } = ours;
    // Stored before the first write: whatever happens next, the old values are on disk (a password of its own sealed).
    try {
      this.options.backups.put({ client: spec.client, key: ref.key, switchedAt: Date.now(), before, wrote });
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      return {
        ok: false,
        error: `${spec.label} session "${name}" has a proxy password of its own, which the switch back needs: ${err.message}; nothing was changed`,
      };
    }
    const written: string[] = [];
    for (const [v, value] of Object.entries(ours)) {
      const failure = await this.write(fullKey, v, value);
      if (failure) {
        const undo = await this.restore(fullKey, before, written);
        this.options.backups.delete(spec.client, ref.key);
        return {
          ok: false,
          error: `cannot change ${spec.label} session "${name}": ${failure}${undo ? `; putting back its old values failed too: ${undo}` : ''}`,
        };
      }
      written.push(v);
    }
    this.options.log?.(
      'info',
      `${spec.label} session "${name}" switched to this app's proxy ` +
        `(${ours.ProxyHost.data}:${this.options.listen().port}${ours.ProxyUsername ? `, user ${ours.ProxyUsername.data}` : ''})`,
    );
    return this.reread(ref, `${spec.label} session "${name}"`);
  }

  /** Restores the values the session had before `switchToApp`. */
  async switchBack(ref: SessionRef): Promise<Outcome<SavedSession>> {
    const spec = clientSpec(ref.client);
    if (!spec) return { ok: false, error: `unknown client ${String(ref.client)}` };
    const name = unescapeSessionName(ref.key);
    let backup;
    try {
      backup = this.options.backups.get(spec.client, ref.key);
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      return { ok: false, error: `cannot switch back ${spec.label} session "${name}": its own proxy password was kept sealed, and ${err.message}` };
    }
    if (!backup) return { ok: false, error: `this app did not switch ${spec.label} session "${name}": there is nothing to switch back to` };
    const found = await this.read(ref);
    if (!found.ok) return found;
    const { fullKey, values } = found.value;
    const changed = Object.keys(backup.wrote).filter((v) => !sameValue(values.get(v), backup.wrote[v]));
    if (changed.length > 0) {
      return {
        ok: false,
        error:
          `${spec.label} session "${name}" was changed after the switch (${changed.join(', ')}): ` +
          `switching back would overwrite that, so it was left as it is (its values before the switch: ${describeBefore(backup)})`,
      };
    }
    const failure = await this.restore(fullKey, backup.before, Object.keys(backup.before));
    if (failure) return { ok: false, error: `cannot switch back ${spec.label} session "${name}": ${failure}` };
    this.options.backups.delete(spec.client, ref.key);
    this.options.log?.('info', `${spec.label} session "${name}" switched back to its own proxy settings (${describeBefore(backup)})`);
    return this.reread(ref, `${spec.label} session "${name}"`);
  }

  private async read(ref: SessionRef): Promise<Outcome<{ spec: ClientSpec; fullKey: string; values: RegValues }>> {
    const spec = clientSpec(ref.client);
    if (!spec) return { ok: false, error: `unknown client ${String(ref.client)}` };
    if (!this.options.reg) return { ok: false, error: 'there is no Windows registry on this system' };
    if (typeof ref.key !== 'string' || ref.key === '' || /[\\\0\r\n]/.test(ref.key) || ref.key.length > 512) {
      return { ok: false, error: `not a ${spec.label} session name: ${JSON.stringify(String(ref.key).slice(0, 80))}` };
    }
    const fullKey = `${spec.key}\\${ref.key}`;
    // Checked first: `reg add` would create a missing key, i.e. a new session.
    const result = await this.options.reg.run(['query', fullKey]);
    if (result.code !== 0)
      return { ok: false, error: `there is no ${spec.label} session "${unescapeSessionName(ref.key)}" (deleted since the list was read?)` };
    const values = keyValues(result.stdout, fullKey);
    return { ok: true, value: { spec, fullKey, values } };
  }

  private async reread(ref: SessionRef, what: string): Promise<Outcome<SavedSession>> {
    const found = await this.read(ref);
    if (!found.ok) return { ok: false, error: `${what}: ${found.error}` };
    return { ok: true, value: this.describe(found.value.spec, ref.key, found.value.values) };
  }

  /** Writes one value; returns reg's complaint on failure. */
  private async write(fullKey: string, name: string, value: RegValue): Promise<string | undefined> {
    const result = await this.options.reg!.run(['add', fullKey, '/v', name, '/t', value.type, '/d', regAddData(value), '/f']);
    return result.code === 0 ? undefined : regComplaint(result);
  }

  /** Puts `names` back to `before` (deleting the ones that were absent); the first failure, if any. */
  private async restore(fullKey: string, before: Record<string, RegValue | null>, names: readonly string[]): Promise<string | undefined> {
    let failure: string | undefined;
    for (const name of names) {
      const old = before[name];
      let data: string | undefined;
      try {
        data = old ? regAddData(old) : undefined;
      } catch (err) {
        // A value reg showed in a form it cannot take back: the others are still put back.
        if (!(err instanceof RegistryError)) throw err;
        failure ??= `${name}: ${err.message}`;
        continue;
      }
      const result =
        old && data !== undefined
          ? await this.options.reg!.run(['add', fullKey, '/v', name, '/t', old.type, '/d', data, '/f'])
          : await this.options.reg!.run(['delete', fullKey, '/v', name, '/f']);
      if (result.code !== 0) failure ??= regComplaint(result);
    }
    return failure;
  }

  /** The values of this app's proxy, as `reg query` shows them. */
  private ourValues(): Record<(typeof PROXY_VALUE_NAMES)[number], RegValue> & Partial<Record<'ProxyUsername' | 'ProxyPassword', RegValue>> {
    const { proxyHost, proxyPort } = puttyProxySettings(this.options.listen());
    const credential = this.options.credential?.();
    return {
      ProxyMethod: dword(HTTP),
      ProxyHost: { type: 'REG_SZ', data: proxyHost },
      ProxyPort: dword(proxyPort),
      ProxyLocalhost: dword(1),
      ...(credential && {
        ProxyUsername: { type: 'REG_SZ', data: credential.user },
        ProxyPassword: { type: 'REG_SZ', data: credential.password },
      }),
    };
  }

  private describe(spec: ClientSpec, key: string, values: RegValues): SavedSession {
    const host = values.get('HostName')?.data ?? '';
    const port = dwordOf(values.get('PortNumber'));
    const { route, routeText } = this.route(values);
    return {
      client: spec.client,
      key,
      name: unescapeSessionName(key),
      host: host && port !== undefined && port !== 22 ? `${host}:${port}` : host,
      route,
      routeText,
      switchedByApp: this.options.backups.has(spec.client, key),
    };
  }

  /** Where the session's connections go, by its proxy values (absent ones as the clients default them). */
  private route(values: RegValues): { route: SessionRoute; routeText: string } {
    const method = dwordOf(values.get('ProxyMethod')) ?? 0;
    if (method === 0) return { route: 'direct', routeText: 'direct (no proxy)' };
    const host = values.get('ProxyHost')?.data ?? 'proxy';
    const port = dwordOf(values.get('ProxyPort')) ?? 80;
    const listen = this.options.listen();
    const ours = new Set(['127.0.0.1', 'localhost', puttyProxySettings(listen).proxyHost.toLowerCase()]);
    if (method === HTTP && ours.has(host.toLowerCase()) && port === listen.port) {
      if (dwordOf(values.get('ProxyLocalhost')) === 1) return { route: 'ours', routeText: "this app's proxy" };
      return { route: 'other-proxy', routeText: `this app's proxy, but "Consider proxying local host connections" is off` };
    }
    return { route: 'other-proxy', routeText: `${PROXY_METHODS[method] ?? `type ${method}`} proxy ${host}:${port}` };
  }
}

/** PuTTY's unescape_registry_key(): %XX is a byte; the bytes are UTF-8 (or, when not valid UTF-8, Latin-1). */
export function unescapeSessionName(key: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < key.length; i++) {
    const hex = key[i] === '%' ? /^[0-9A-Fa-f]{2}$/.exec(key.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else {
      for (const b of Buffer.from(key[i], 'utf8')) bytes.push(b);
    }
  }
  const buffer = Buffer.from(bytes);
  const text = buffer.toString('utf8');
  return text.includes('\uFFFD') ? buffer.toString('latin1') : text;
}

function clientSpec(client: string): ClientSpec | undefined {
  return SESSION_CLIENTS.find((c) => c.client === client);
}

function dword(n: number): RegValue {
  return { type: 'REG_DWORD', data: `0x${n.toString(16)}` };
}

function dwordOf(value: RegValue | undefined): number | undefined {
  if (!value || value.type !== 'REG_DWORD') return undefined;
  const n = Number(value.data);
  return Number.isFinite(n) ? n : undefined;
}

function sameValue(a: RegValue | undefined, b: RegValue | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.type !== b.type) return false;
  return a.type === 'REG_DWORD' ? Number(a.data) === Number(b.data) : a.data === b.data;
}

function describeBefore(backup: SwitchBackup): string {
  // A password (the session's, for its own proxy) is never shown or logged.
  const shown = (v: string) => (backup.before[v] ? (v === 'ProxyPassword' ? '(set)' : backup.before[v]!.data) : '(none)');
  return Object.keys(backup.before)
    .map((v) => `${v}=${shown(v)}`)
    .join(', ');
}
