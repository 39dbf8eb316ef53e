/**
 * The proxy values a session had before this app switched it, kept in a
 * JSON file of their own in the app's data folder (`session-switches.json`)
 * so that "Switch back" restores them exactly, a value that was absent
 * included (it is deleted again), also after a restart.
 *
 * Written atomically (a temp file renamed over the old one): a crash never
 * leaves half a file. A file that cannot be read is set aside as
 * `session-switches.corrupt-<time>.json` and reported, never lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RegValue } from '../../core/windowsRegistry';
import type { SessionClient } from '../../shared/sessions';

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

interface FileShape {
  version: number;
  switches: SwitchBackup[];
}

export class SessionBackups {
  private readonly entries = new Map<string, SwitchBackup>();
  /** Set when the file could not be read and was set aside. */
  readonly problem: string | undefined;

  constructor(private readonly file: string) {
    let problem: string | undefined;
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as FileShape;
      if (parsed?.version !== VERSION || !Array.isArray(parsed.switches)) throw new Error(`not a version ${VERSION} file`);
      for (const entry of parsed.switches) {
        if (typeof entry?.client !== 'string' || typeof entry.key !== 'string' || typeof entry.before !== 'object') throw new Error('a malformed entry');
        this.entries.set(id(entry.client, entry.key), entry);
      }
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

  get(client: SessionClient, key: string): SwitchBackup | undefined {
    return this.entries.get(id(client, key));
  }

  put(backup: SwitchBackup): void {
    this.entries.set(id(backup.client, backup.key), backup);
    this.save();
  }

  delete(client: SessionClient, key: string): void {
    if (this.entries.delete(id(client, key))) this.save();
  }

  private save(): void {
    const shape: FileShape = { version: VERSION, switches: [...this.entries.values()] };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(shape, null, 2) + '\n');
    fs.renameSync(temp, this.file);
  }
}

function id(client: string, key: string): string {
  return `${client}\n${key}`;
}
