/**
 * Opening the user's settings file safely: a first run gets the defaults, an
 * older format is migrated (the old file kept beside it), and a file that
 * cannot be used (broken JSON, a value the schema refuses, a newer format) is
 * set aside and reported, never silently lost. What is then changed in the
 * settings is settingsEditor.ts.
 *
 * The store itself is electron-store in the app and `conf` (the library under
 * it) in tests: both get the same options from here through a factory, so the
 * schema validation on load and on every write is the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Notice } from '../../shared/ipc';
import { SecretCipher, sealSecret } from './secrets';
import { Settings, SettingsBackend } from './settingsEditor';
import { SETTINGS_SCHEMA, SETTINGS_VERSION, StoredSettings, defaultSettings } from './settingsSchema';
import { MigrationError, migrateSettings } from './settingsMigrations';

/** Options for the store, in conf's terms (electron-store calls `configName` `name`). */
export interface BackendOptions {
  cwd: string;
  configName: string;
  schema: typeof SETTINGS_SCHEMA;
  defaults: StoredSettings;
  clearInvalidConfig: false;
  configFileMode: number;
}

export type BackendFactory = (options: BackendOptions) => SettingsBackend | Promise<SettingsBackend>;

export const SETTINGS_FILE_NAME = 'settings';

export interface OpenSettingsOptions {
  /** The folder of the settings file (the app's userData folder). */
  dir: string;
  createBackend: BackendFactory;
  cipher: SecretCipher;
  /** For backup file names; tests pass a fixed clock. */
  now?: () => Date;
}

export interface OpenedSettings {
  settings: Settings;
  /** What the user must be told: a file set aside, a migration's notes. */
  notices: Notice[];
}

/** Loads the settings; whatever is wrong with the file, the app starts. */
export async function openSettings(options: OpenSettingsOptions): Promise<OpenedSettings> {
  const { dir, createBackend, cipher } = options;
  const now = options.now ?? (() => new Date());
  const file = path.join(dir, `${SETTINGS_FILE_NAME}.json`);
  const notices: Notice[] = [];
  const setAside = (reason: string) => {
    const backup = uniquePath(dir, `${SETTINGS_FILE_NAME}.corrupt-${stamp(now())}`);
    fs.renameSync(file, backup);
    ownerOnly(backup);
    notices.push({
      level: 'warn',
      title: 'Settings could not be read',
      text: `The settings file could not be used (${reason}). It was kept as ${backup}; the defaults are loaded.`,
    });
  };

  fs.mkdirSync(dir, { recursive: true });
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A directory or an unreadable file in its place: set aside like a corrupt one, and start.
    if (code === 'EISDIR') setAside('it is a folder, not a file');
    else if (code !== 'ENOENT') setAside(`it cannot be read (${code ?? (err as Error).message})`);
  }
  ownerOnly(file);
  if (text !== undefined) {
    try {
      const migrated = migrateSettings(JSON.parse(text), {
        sealSecret: (secret) => {
          try {
            return sealSecret(cipher, secret);
          } catch {
            return undefined;
          }
        },
      });
      if (migrated.from !== SETTINGS_VERSION) {
        // The old file stays beside the new one, so a downgrade loses nothing
        // but its secrets: the old formats kept them in the clear.
        const kept = path.join(dir, `${SETTINGS_FILE_NAME}.v${migrated.from}.json`);
        fs.writeFileSync(kept, JSON.stringify(withoutSecrets(JSON.parse(text)), null, '\t'), { mode: 0o600 });
        ownerOnly(kept);
        fs.writeFileSync(file, JSON.stringify(migrated.settings, null, '\t'), { mode: 0o600 });
        ownerOnly(file);
        for (const note of migrated.notes) notices.push({ level: 'warn', title: 'Settings updated', text: note });
      }
    } catch (err) {
      if (err instanceof SyntaxError) setAside(`not valid JSON: ${err.message}`);
      else if (err instanceof MigrationError) setAside(err.message);
      else throw err;
    }
  }

  const backendOptions: BackendOptions = {
    cwd: dir,
    configName: SETTINGS_FILE_NAME,
    schema: SETTINGS_SCHEMA,
    defaults: defaultSettings(),
    clearInvalidConfig: false,
    configFileMode: 0o600,
  };
  let backend: SettingsBackend;
  try {
    backend = await createBackend(backendOptions);
  } catch (err) {
    if (!fs.existsSync(file)) throw err;
    setAside(`it does not match the settings schema: ${(err as Error).message}`);
    backend = await createBackend(backendOptions);
  }
  const settings = new Settings(backend, cipher);
  settings.repair();
  return { settings, notices };
}

/**
 * Owner-only access (0600) on POSIX, whatever mode an older version or the
 * user's umask left: the file holds endpoints and user names, and its sealed
 * secrets are only as private as the account. (Windows has no such modes:
 * %APPDATA% is already per user.)
 */
function ownerOnly(file: string): void {
  if (process.platform === 'win32') return;
  try {
    fs.chmodSync(file, 0o600);
  } catch {
    // Absent (a first run) or not ours: nothing to tighten.
  }
}

/** `base.json`, or `base-2.json`, `base-3.json`…: two backups in the same second keep both. */
function uniquePath(dir: string, base: string): string {
  for (let n = 1; ; n++) {
    const candidate = path.join(dir, n === 1 ? `${base}.json` : `${base}-${n}.json`);
    if (!fs.existsSync(candidate)) return candidate;
  }
}

/** A copy of an old settings file with every secret out: `user:secret@` in URLs, and secret or password fields. */
export function withoutSecrets(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, /secret|password/i.test(key) && typeof v === 'string' ? '' : withoutSecrets(v)]));
  }
  return value;
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}
