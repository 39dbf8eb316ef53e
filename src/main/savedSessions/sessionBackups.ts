/**
 * The proxy values a session had before this app switched it, kept in a
 * JSON file of their own in the app's data folder (`session-switches.json`)
 * so that "Switch back" restores them exactly, a value that was absent
 * included (it is deleted again), also after a restart.
 *
 * Written atomically (a temp file renamed over the old one): a crash never
 * leaves half a file. A file that cannot be read is set aside as
 * `session-switches.corrupt-<time>.json` and reported, never lost.
 *
 * A session's own proxy password (ProxyPassword, which the switch replaces
 * with the local proxy's) is a secret of the user's: it is kept sealed with
 * the OS key store like the settings' secrets (issue 24), never in the clear,
 * and the file is owner-only (0600). Without the key store a session with a
 * password of its own is not switched (`put` throws SecretError first). A
 * file written before, with a password in the clear, is sealed when read.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RegValue } from '../../core/windowsRegistry';
import type { SessionClient } from '../../shared/sessions';
import { SecretCipher, SecretError, openSecret, sealSecret } from '../settings/secrets';

export const SESSION_BACKUPS_FILE = 'session-switches.json';
const VERSION = 1;

export interface SwitchBackup {
  client: SessionClient;
  key: string;
  /** When the session was switched, ms since the epoch. */
  switchedAt: number;
  /** Each proxy value before the switch; null: it did not exist. */
  before: Record<string, RegValue | null>;
  /** What the switch wrote, to tell whether the session was changed since. */
  wrote: Record<string, RegValue>;
}

/** The value names that hold a secret: kept sealed. */
const SECRET_VALUES = ['ProxyPassword'];

/** A secret value as the file keeps it: its type, and its data sealed with the OS key store. */
interface SealedValue {
  type: string;
  sealed: string;
}

/** A backup as the file keeps it: the secret values sealed (an older file: maybe in the clear). */
interface StoredBackup extends Omit<SwitchBackup, 'before'> {
  before: Record<string, RegValue | SealedValue | null>;
}

interface FileShape {
  version: number;
  switches: StoredBackup[];
}

export class SessionBackups {
  private readonly entries = new Map<string, StoredBackup>();
  /** Set when the file could not be read and was set aside. */
  readonly problem: string | undefined;

  constructor(
    private readonly file: string,
    private readonly cipher: SecretCipher,
  ) {
    let problem: string | undefined;
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as FileShape;
      if (parsed?.version !== VERSION || !Array.isArray(parsed.switches)) throw new Error(`not a version ${VERSION} file`);
      for (const entry of parsed.switches) {
        if (typeof entry?.client !== 'string' || typeof entry.key !== 'string' || typeof entry.before !== 'object') throw new Error('a malformed entry');
        this.entries.set(id(entry.client, entry.key), entry);
      }
      this.sealOlderEntries();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.entries.clear();
        const aside = path.join(path.dirname(file), `session-switches.corrupt-${Date.now()}.json`);
        try {
          fs.renameSync(file, aside);
          problem = `${file} could not be read (${(err as Error).message}); it was set aside as ${aside}`;
        } catch (renameErr) {
          problem = `${file} could not be read (${(err as Error).message}) nor set aside (${(renameErr as Error).message})`;
        }
      }
    }
    this.problem = problem;
  }

  /** Whether this app switched the session (and keeps its values before). */
  has(client: SessionClient, key: string): boolean {
    return this.entries.has(id(client, key));
  }

  /**
   * The values before the switch, a secret one opened.
   * @throws {SecretError} when it cannot be opened (sealed under another account, or no key store now).
   */
  get(client: SessionClient, key: string): SwitchBackup | undefined {
    const entry = this.entries.get(id(client, key));
    if (!entry) return undefined;
    const before: Record<string, RegValue | null> = {};
    for (const [name, value] of Object.entries(entry.before)) {
      before[name] = value && 'sealed' in value ? { type: value.type, data: openSecret(this.cipher, value.sealed) } : value;
    }
    return { ...entry, before };
  }

  /**
   * Keeps `backup` (its secret values sealed) and writes the file.
   * @throws {SecretError} when a secret value cannot be sealed (no key store): nothing is kept.
   */
  put(backup: SwitchBackup): void {
    this.entries.set(id(backup.client, backup.key), { ...backup, before: this.sealed(backup.before) });
    this.save();
  }

  /** `before` with its secret values sealed. @throws {SecretError} */
  private sealed(before: Record<string, RegValue | SealedValue | null>): Record<string, RegValue | SealedValue | null> {
    const out: Record<string, RegValue | SealedValue | null> = {};
    for (const [name, value] of Object.entries(before)) {
      out[name] = value && 'data' in value && SECRET_VALUES.includes(name) ? { type: value.type, sealed: sealSecret(this.cipher, value.data) } : value;
    }
    return out;
  }

  /** A file written before passwords were sealed: sealed now, where the key store is there (else left as it was). */
  private sealOlderEntries(): void {
    const clear = [...this.entries.values()].filter((e) => SECRET_VALUES.some((name) => e.before[name] && 'data' in e.before[name]!));
    if (clear.length === 0) return;
    try {
      for (const entry of clear) entry.before = this.sealed(entry.before);
    } catch (err) {
      if (err instanceof SecretError) return;
      throw err;
    }
    this.save();
  }

  delete(client: SessionClient, key: string): void {
    if (this.entries.delete(id(client, key))) this.save();
  }

  private save(): void {
    const shape: FileShape = { version: VERSION, switches: [...this.entries.values()] };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    // Owner-only, like the settings file: it names the user's sessions and holds their sealed passwords.
    fs.writeFileSync(temp, JSON.stringify(shape, null, 2) + '\n', { mode: 0o600 });
    fs.chmodSync(temp, 0o600);
    fs.renameSync(temp, this.file);
  }
}

function id(client: string, key: string): string {
  return `${client}\n${key}`;
}
