// Where the tray app keeps settings, secrets and logs, decided from Windows-
// style inputs (backslash paths, %APPDATA% set or not, the portable build's
// PORTABLE_EXECUTABLE_DIR) with path.win32, on any machine. (On Windows Node
// under wine: test/e2e/wine/dataPaths.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DataPathsError, isFullWindowsPath, resolveDataPaths } from '../../src/main/settings/dataPaths';

const win = path.win32;
const PROFILE = 'C:\\Users\\Ana Müller';
const APPDATA = `${PROFILE}\\AppData\\Roaming`;
// Where the NSIS per-user installer puts the app: never a place for its data.
const INSTALLED_EXE = `${PROFILE}\\AppData\\Local\\Programs\\WSSH\\WSSH.exe`;

/** A Windows environment as Explorer gives it to an app. */
function windowsEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    APPDATA,
    LOCALAPPDATA: `${PROFILE}\\AppData\\Local`,
    USERPROFILE: PROFILE,
    HOMEDRIVE: 'C:',
    HOMEPATH: '\\Users\\Ana Müller',
    ...extra,
  };
}

function isInside(dir: string, child: string): boolean {
  const rel = win.relative(dir, child);
  return rel === '' || (!rel.startsWith('..') && !win.isAbsolute(rel));
}

test('installed on Windows: everything under %APPDATA%\\WSSH, nothing beside the executable', () => {
  const paths = resolveDataPaths({ platform: 'win32', env: windowsEnv(), appData: APPDATA, home: PROFILE });
  assert.deepEqual(paths, {
    userData: `${APPDATA}\\WSSH`,
    settingsFile: `${APPDATA}\\WSSH\\settings.json`,
    logs: `${APPDATA}\\WSSH\\logs`,
    portable: false,
    source: 'APPDATA',
  });
  for (const p of [paths.userData, paths.settingsFile, paths.logs]) {
    assert.ok(win.isAbsolute(p), p);
    assert.ok(!isInside(win.dirname(INSTALLED_EXE), p), `${p} is not in the program's folder`);
    assert.ok(isInside(PROFILE, p), `${p} is in the user's profile`);
  }
});

test("%APPDATA% wins over Electron's appData, and a redirected roaming profile is followed", () => {
  const redirected = '\\\\fileserver\\profiles$\\ana\\AppData\\Roaming';
  const paths = resolveDataPaths({ platform: 'win32', env: windowsEnv({ APPDATA: redirected }), appData: APPDATA });
  assert.equal(paths.userData, `${redirected}\\WSSH`);
  assert.equal(paths.settingsFile, '\\\\fileserver\\profiles$\\ana\\AppData\\Roaming\\WSSH\\settings.json');
});

test("%APPDATA% unset: Electron's appData (the shell's known folder), then %USERPROFILE%", () => {
  const noAppdata = windowsEnv({ APPDATA: undefined });
  assert.deepEqual(resolveDataPaths({ platform: 'win32', env: noAppdata, appData: 'D:\\Roaming' }), {
    userData: 'D:\\Roaming\\WSSH',
    settingsFile: 'D:\\Roaming\\WSSH\\settings.json',
    logs: 'D:\\Roaming\\WSSH\\logs',
    portable: false,
    source: 'appData',
  });
  const fromProfile = resolveDataPaths({ platform: 'win32', env: noAppdata });
  assert.equal(fromProfile.userData, `${PROFILE}\\AppData\\Roaming\\WSSH`);
  assert.equal(fromProfile.source, 'USERPROFILE');
  // Empty counts as unset.
  assert.equal(resolveDataPaths({ platform: 'win32', env: windowsEnv({ APPDATA: '' }) }).source, 'USERPROFILE');
});

test('a relative or drive-relative %APPDATA% is never used (it would land beside the executable)', () => {
  for (const bad of ['AppData\\Roaming', '.\\data', '\\Users\\ana\\AppData\\Roaming', 'C:AppData', '%USERPROFILE%\\AppData\\Roaming']) {
    const paths = resolveDataPaths({ platform: 'win32', env: windowsEnv({ APPDATA: bad }), appData: APPDATA });
    assert.equal(paths.source, 'appData', bad);
    assert.equal(paths.userData, `${APPDATA}\\WSSH`, bad);
  }
});

test('no profile at all: an error, not the working directory', () => {
  assert.throws(() => resolveDataPaths({ platform: 'win32', env: {} }), DataPathsError);
  assert.throws(
    () => resolveDataPaths({ platform: 'win32', env: { APPDATA: 'rel', USERPROFILE: 'also\\rel' }, appData: '' }),
    /neither %APPDATA% nor %USERPROFILE%/,
  );
});

test('the portable build keeps its data beside the .exe (PORTABLE_EXECUTABLE_DIR)', () => {
  const stick = 'E:\\Tools\\WSSH';
  const paths = resolveDataPaths({
    platform: 'win32',
    env: windowsEnv({ PORTABLE_EXECUTABLE_DIR: stick, PORTABLE_EXECUTABLE_FILE: `${stick}\\WSSH-Portable-0.1.0-x64.exe` }),
    appData: APPDATA,
  });
  assert.deepEqual(paths, {
    userData: 'E:\\Tools\\WSSH\\WSSH Data',
    settingsFile: 'E:\\Tools\\WSSH\\WSSH Data\\settings.json',
    logs: 'E:\\Tools\\WSSH\\WSSH Data\\logs',
    portable: true,
    source: 'portable',
  });
  assert.equal(win.dirname(paths.userData), stick, 'beside the .exe');
  assert.ok(!isInside(PROFILE, paths.userData), 'nothing in the profile of the machine it runs on');
  // Forward slashes and a trailing separator come out as one clean Windows path.
  assert.equal(resolveDataPaths({ platform: 'win32', env: windowsEnv({ PORTABLE_EXECUTABLE_DIR: 'E:/Tools/WSSH/' }) }).userData, 'E:\\Tools\\WSSH\\WSSH Data');
  // A UNC share works too.
  assert.equal(
    resolveDataPaths({ platform: 'win32', env: windowsEnv({ PORTABLE_EXECUTABLE_DIR: '\\\\nas\\apps\\WSSH' }) }).userData,
    '\\\\nas\\apps\\WSSH\\WSSH Data',
  );
});

test('PORTABLE_EXECUTABLE_DIR empty or relative: treated as the installed app', () => {
  for (const value of ['', 'WSSH', '.\\']) {
    const paths = resolveDataPaths({ platform: 'win32', env: windowsEnv({ PORTABLE_EXECUTABLE_DIR: value }) });
    assert.equal(paths.portable, false, JSON.stringify(value));
    assert.equal(paths.userData, `${APPDATA}\\WSSH`);
  }
});

test('PORTABLE_EXECUTABLE_DIR means nothing outside Windows', () => {
  const paths = resolveDataPaths({ platform: 'linux', env: { HOME: '/home/ana', PORTABLE_EXECUTABLE_DIR: '/media/stick' }, appData: '/home/ana/.config' });
  assert.equal(paths.portable, false);
  assert.equal(paths.userData, '/home/ana/.config/WSSH');
});

test('WSSH_USER_DATA overrides everything, portable included, but only as a full path', () => {
  const env = windowsEnv({ WSSH_USER_DATA: 'D:\\wssh-test', PORTABLE_EXECUTABLE_DIR: 'E:\\Tools' });
  const paths = resolveDataPaths({ platform: 'win32', env, appData: APPDATA });
  assert.equal(paths.userData, 'D:\\wssh-test');
  assert.equal(paths.source, 'WSSH_USER_DATA');
  assert.throws(() => resolveDataPaths({ platform: 'win32', env: windowsEnv({ WSSH_USER_DATA: 'wssh-test' }) }), /WSSH_USER_DATA must be a full path/);
});

test("Linux and macOS: Electron's appData, else the XDG or Library folder", () => {
  assert.equal(resolveDataPaths({ platform: 'linux', env: {}, appData: '/home/ana/.config' }).settingsFile, '/home/ana/.config/WSSH/settings.json');
  assert.equal(resolveDataPaths({ platform: 'linux', env: { XDG_CONFIG_HOME: '/xdg' }, home: '/home/ana' }).userData, '/xdg/WSSH');
  assert.equal(resolveDataPaths({ platform: 'linux', env: {}, home: '/home/ana' }).userData, '/home/ana/.config/WSSH');
  assert.equal(
    resolveDataPaths({ platform: 'darwin', env: { XDG_CONFIG_HOME: '/xdg' }, home: '/Users/ana' }).userData,
    '/Users/ana/Library/Application Support/WSSH',
  );
  assert.throws(() => resolveDataPaths({ platform: 'linux', env: {} }), DataPathsError);
});

test('isFullWindowsPath: drive and UNC paths only', () => {
  for (const p of ['C:\\', 'c:/x', 'D:\\a b\\c', '\\\\server\\share', '\\\\server\\share\\x', '//server/share']) assert.ok(isFullWindowsPath(p), p);
  for (const p of ['', 'C:', 'C:x', '\\x', '/x', 'x\\y', '\\\\server', '%APPDATA%']) assert.ok(!isFullWindowsPath(p), p);
});
