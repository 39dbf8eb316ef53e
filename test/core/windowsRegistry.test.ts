// reg.exe's output as Windows and Wine print it, read by the one parser that
// both the system proxy (Internet Settings) and the saved sessions use; the
// missing-key rule; and reg.exe's full path, never its bare name. (Both
// readers on the same output: test/main/savedSessions.test.ts. The registry
// itself, under Wine: test/e2e/wine/windowsRegistry.test.ts and savedSessions.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  RegRunner,
  RegistryError,
  fullKeyName,
  isMissingKey,
  keyValues,
  parseRegQuery,
  queryRegistryKey,
  regAddData,
  regExePath,
  windowsRegRunner,
} from '../../src/core/windowsRegistry';
import { INTERNET_SETTINGS_KEY } from '../../src/core/upstream/windowsProxySettings';
import { tempDir } from '../fixtures/tmp';

const SETTINGS = fullKeyName(INTERNET_SETTINGS_KEY);

// As Windows' reg.exe prints `reg query KEY /s`: CRLF, a blank line before
// each key, four spaces before and between the fields, an empty REG_SZ with
// its four spaces and nothing after them.
const WINDOWS_OUTPUT = [
  '',
  SETTINGS,
  '    User Agent    REG_SZ    Mozilla/4.0 (compatible; MSIE 8.0; Win32)',
  '    ProxyEnable    REG_DWORD    0x1',
  '    ProxyServer    REG_SZ    http=proxy.corp:3128;https=proxy.corp:3129',
  '    ProxyOverride    REG_SZ    <local>;*.corp',
  '    AutoConfigURL    REG_SZ    ',
  '    ZonesSecurityUpgrade    REG_BINARY    8C6D0A6AF2D3D401',
  '    CodeBaseSearchPath    REG_EXPAND_SZ    %SystemRoot%\\Downloaded Program Files',
  '    Cache  Limit    REG_QWORD    0x100000000',
  '    Notes    REG_MULTI_SZ    a\\0b',
  '    Banner    REG_SZ      two leading spaces,  a run    inside, two trailing  ',
  '    (Default)    REG_SZ    x',
  '',
  `${SETTINGS}\\5.0`,
  '',
  `${SETTINGS}\\ZoneMap`,
  '    IntranetName    REG_DWORD    0x1',
  '',
].join('\r\n');

test('reg query /s output: every value type, names with spaces, empty values, data kept to the byte', () => {
  const keys = parseRegQuery(WINDOWS_OUTPUT);
  assert.deepEqual([...keys.keys()], [SETTINGS, `${SETTINGS}\\5.0`, `${SETTINGS}\\ZoneMap`]);
  assert.deepEqual(Object.fromEntries(keys.get(SETTINGS)!), {
    'User Agent': { type: 'REG_SZ', data: 'Mozilla/4.0 (compatible; MSIE 8.0; Win32)' },
    ProxyEnable: { type: 'REG_DWORD', data: '0x1' },
    ProxyServer: { type: 'REG_SZ', data: 'http=proxy.corp:3128;https=proxy.corp:3129' },
    ProxyOverride: { type: 'REG_SZ', data: '<local>;*.corp' },
    AutoConfigURL: { type: 'REG_SZ', data: '' },
    ZonesSecurityUpgrade: { type: 'REG_BINARY', data: '8C6D0A6AF2D3D401' },
    CodeBaseSearchPath: { type: 'REG_EXPAND_SZ', data: '%SystemRoot%\\Downloaded Program Files' },
    'Cache  Limit': { type: 'REG_QWORD', data: '0x100000000' },
    Notes: { type: 'REG_MULTI_SZ', data: 'a\\0b' },
    Banner: { type: 'REG_SZ', data: '  two leading spaces,  a run    inside, two trailing  ' },
    '': { type: 'REG_SZ', data: 'x' },
  });
  assert.equal(keys.get(`${SETTINGS}\\5.0`)!.size, 0);
  assert.deepEqual(Object.fromEntries(keys.get(`${SETTINGS}\\ZoneMap`)!), { IntranetName: { type: 'REG_DWORD', data: '0x1' } });

  // Wine's reg prints an empty REG_SZ without the separator after its type, and LF line ends through wine's console.
  const wine = keyValues(`\n${SETTINGS}\n    AutoConfigURL    REG_SZ\n    ProxyEnable    REG_DWORD    0x0\n`, INTERNET_SETTINGS_KEY);
  assert.deepEqual(Object.fromEntries(wine), { AutoConfigURL: { type: 'REG_SZ', data: '' }, ProxyEnable: { type: 'REG_DWORD', data: '0x0' } });
  // A key's values by its name as asked (HKCU, any case); a key not in the output has none.
  assert.equal(keyValues(WINDOWS_OUTPUT, INTERNET_SETTINGS_KEY.toLowerCase()).size, 11);
  assert.equal(keyValues(WINDOWS_OUTPUT, `${INTERNET_SETTINGS_KEY}\\Gone`).size, 0);
  // Values belong to a key: none before the first key line.
  assert.equal(parseRegQuery('    ProxyEnable    REG_DWORD    0x1\r\n').size, 0);
});

test('a missing key is empty, any other failure an error, for every reader', async () => {
  const answering = (code: number, stderr: string): RegRunner => ({ run: async () => ({ code, stdout: '', stderr }) });
  const missing = { code: 1, stdout: '', stderr: 'ERROR: The system was unable to find the specified registry key or value.\r\n' };
  assert.equal(isMissingKey(missing), true);
  assert.equal(isMissingKey({ code: 1, stdout: '', stderr: 'ERROR: Access is denied.\r\n' }), false);
  assert.equal((await queryRegistryKey(INTERNET_SETTINGS_KEY, answering(missing.code, missing.stderr))).size, 0);
  await assert.rejects(
    queryRegistryKey(INTERNET_SETTINGS_KEY, answering(1, 'ERROR: Access is denied.\r\n')),
    (err: Error) => err instanceof RegistryError && err.message === `cannot read ${INTERNET_SETTINGS_KEY} with reg.exe: Access is denied.`,
  );
  await assert.rejects(
    queryRegistryKey(INTERNET_SETTINGS_KEY, answering(-1, 'reg.exe did not answer within 5 s')),
    /^RegistryError: cannot read .* with reg\.exe: reg\.exe did not answer within 5 s$/,
  );
});

test('reg.exe by its full path in System32, never by its bare name', () => {
  assert.equal(regExePath('C:\\Windows'), 'C:\\Windows\\System32\\reg.exe');
  assert.equal(regExePath('D:\\WINNT'), 'D:\\WINNT\\System32\\reg.exe');
  // Without a full SystemRoot: C:\Windows, not a path looked up from the current directory.
  for (const root of [undefined, '', 'Windows', '.\\Windows']) assert.equal(regExePath(root), 'C:\\Windows\\System32\\reg.exe', String(root));
});

test('key names and reg add data', () => {
  assert.equal(fullKeyName('HKCU\\Software\\X'), 'HKEY_CURRENT_USER\\Software\\X');
  assert.equal(regAddData({ type: 'REG_DWORD', data: '0xc32' }), '3122');
  assert.equal(regAddData({ type: 'REG_SZ', data: ' a "b" ' }), ' a "b" ');
  // Found by fuzzing: a DWORD that is no number was a SyntaxError from BigInt.
  assert.throws(
    () => regAddData({ type: 'REG_DWORD', data: 'proxy:3128' }),
    (err: Error) => err instanceof RegistryError && /not a number/.test(err.message),
  );
});

test('reg.exe that could not finish: the failure names no argument (a reg add carries the proxy password)', async (t) => {
  // On Linux, System32's reg.exe path is a bare file name looked up in PATH: a
  // stand-in there that kills itself makes Node's "Command failed: … /d DATA" error.
  const dir = tempDir(t);
  const standIn = path.join(dir, regExePath('C:\\Windows'));
  fs.writeFileSync(standIn, '#!/bin/sh\nkill -TERM $$\n', { mode: 0o755 });
  const savedPath = process.env.PATH;
  process.env.PATH = `${dir}${path.delimiter}${savedPath ?? ''}`;
  t.after(() => {
    process.env.PATH = savedPath;
  });
  const result = await windowsRegRunner({ systemRoot: 'C:\\Windows' }).run(['add', 'HKCU\\Software\\X', '/v', 'ProxyPassword', '/d', 's3cret-Pa55', '/f']);
  assert.equal(result.code, -1);
  assert.equal(result.stderr, 'reg.exe could not be run (ended by SIGTERM)');
  assert.doesNotMatch(result.stderr + result.stdout, /s3cret/);
});
