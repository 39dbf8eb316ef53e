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
import type { Notice } from '../shared/ipc';
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
    const backup = path.join(dir, `${SETTINGS_FILE_NAME}.corrupt-${stamp(now())}.json`);
    fs.renameSync(file, backup);
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
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
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
        // The old file stays beside the new one, so a downgrade loses nothing.
        fs.copyFileSync(file, path.join(dir, `${SETTINGS_FILE_NAME}.v${migrated.from}.json`));
        fs.writeFileSync(file, JSON.stringify(migrated.settings, null, '\t'), { mode: 0o600 });
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

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}
