/**
 * Where the tray app keeps its data, decided in one place from plain inputs
 * (no Electron here, so the decision is tested with Windows-style inputs on
 * any machine).
 *
 * Everything lives in one folder, Electron's `userData`: settings.json (with
 * the endpoint secrets sealed by safeStorage inside it), Chromium's
 * "Local State" (which holds safeStorage's own key, itself protected by
 * DPAPI on Windows), and the `logs` folder. On Windows that folder is in the
 * user's roaming profile, `%APPDATA%\WSSH`, never beside the executable: an
 * installed app's folder may be read-only, shared by users, or replaced by
 * the next update. The one exception is the portable build, which the user
 * runs from a folder of their choice (a USB stick) and which keeps its data
 * beside the .exe, in `WSSH Data`: electron-builder's portable launcher tells
 * the app where it is with PORTABLE_EXECUTABLE_DIR.
 *
 * A relative path from the environment is never used: it would resolve
 * against the working directory, which for an app started from Explorer or
 * at login is typically the executable's folder.
 */
import path from 'node:path';

/** The folder under the profile's application data. */
const APP_DATA_FOLDER = 'WSSH';
/** The folder beside the portable .exe. */
const PORTABLE_DATA_FOLDER = 'WSSH Data';
const SETTINGS_FILE = 'settings.json';
const LOGS_FOLDER = 'logs';

export interface DataPathsInput {
  platform: NodeJS.Platform;
  /** The process environment (APPDATA, USERPROFILE, PORTABLE_EXECUTABLE_DIR, WSSH_USER_DATA, XDG_CONFIG_HOME). */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Electron's app.getPath('appData'): the roaming application data folder
   * (on Windows from the shell's known folder, normally what %APPDATA% says),
   * ~/.config on Linux, ~/Library/Application Support on macOS.
   */
  appData?: string;
  /** Electron's app.getPath('home'). */
  home?: string;
}

/** Why the folder was chosen. */
export type DataPathsSource = 'WSSH_USER_DATA' | 'portable' | 'APPDATA' | 'appData' | 'USERPROFILE' | 'XDG_CONFIG_HOME' | 'home';

export interface DataPaths {
  /** Electron's userData: give it to app.setPath('userData', …) before anything reads it. */
  userData: string;
  /** The settings file, endpoint secrets included (sealed). */
  settingsFile: string;
  /** For app.setAppLogsPath(…). */
  logs: string;
  /** True for the portable build: data beside the .exe. */
  portable: boolean;
  source: DataPathsSource;
}

export class DataPathsError extends Error {
  override name = 'DataPathsError';
}

/** A Windows path that does not depend on the working directory or the current drive: `C:\…` or `\\server\share\…`. */
export function isFullWindowsPath(p: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(p) || /^[\\/]{2}[^\\/]+[\\/]+[^\\/]+/.test(p);
}

/** Where the app's data lives; throws DataPathsError when no usable folder is known. */
export function resolveDataPaths(input: DataPathsInput): DataPaths {
  const windows = input.platform === 'win32';
  const p = windows ? path.win32 : path.posix;
  const isFull = windows ? isFullWindowsPath : (dir: string) => path.posix.isAbsolute(dir);
  const usable = (value: string | undefined): value is string => typeof value === 'string' && value.trim() !== '' && isFull(value.trim());
  const result = (dir: string, source: DataPathsSource): DataPaths => {
    const userData = p.normalize(dir);
    return {
      userData,
      settingsFile: p.join(userData, SETTINGS_FILE),
      logs: p.join(userData, LOGS_FOLDER),
      portable: source === 'portable',
      source,
    };
  };
  const { env } = input;

  // An explicit choice (tests, a managed install) wins; relative is refused.
  const override = env.WSSH_USER_DATA;
  if (override !== undefined && override !== '') {
    if (!usable(override)) throw new DataPathsError(`WSSH_USER_DATA must be a full path, not "${override}"`);
    return result(override.trim(), 'WSSH_USER_DATA');
  }

  if (windows) {
    if (usable(env.PORTABLE_EXECUTABLE_DIR)) return result(p.join(env.PORTABLE_EXECUTABLE_DIR.trim(), PORTABLE_DATA_FOLDER), 'portable');
    if (usable(env.APPDATA)) return result(p.join(env.APPDATA.trim(), APP_DATA_FOLDER), 'APPDATA');
    if (usable(input.appData)) return result(p.join(input.appData, APP_DATA_FOLDER), 'appData');
    if (usable(env.USERPROFILE)) return result(p.join(env.USERPROFILE.trim(), 'AppData', 'Roaming', APP_DATA_FOLDER), 'USERPROFILE');
    throw new DataPathsError('no folder for the settings: neither %APPDATA% nor %USERPROFILE% is set to a full path');
  }

  if (usable(input.appData)) return result(p.join(input.appData, APP_DATA_FOLDER), 'appData');
  if (input.platform !== 'darwin' && usable(env.XDG_CONFIG_HOME)) return result(p.join(env.XDG_CONFIG_HOME.trim(), APP_DATA_FOLDER), 'XDG_CONFIG_HOME');
  const home = usable(input.home) ? input.home : usable(env.HOME) ? env.HOME.trim() : undefined;
  if (home) {
    const base = input.platform === 'darwin' ? p.join(home, 'Library', 'Application Support') : p.join(home, '.config');
    return result(p.join(base, APP_DATA_FOLDER), 'home');
  }
  throw new DataPathsError('no folder for the settings: no home directory is known');
}
