// reg.exe's output as the saved-sessions code reads it, and PuTTY's session
// name escaping both ways. (The registry itself: savedSessionsWine.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullKeyName, parseRegQuery, regAddData } from '../../src/main/regExe';
import { unescapeSessionName } from '../../src/main/savedSessions';
import { escapePuttySessionName } from '../../src/main/puttyReg';

// As Windows' reg.exe prints `reg query KEY /s`: CRLF, a blank line before
// each key, four spaces around the type, an empty REG_SZ with nothing after it.
const WINDOWS_OUTPUT = [
  '',
  'HKEY_CURRENT_USER\\Software\\SimonTatham\\PuTTY\\Sessions',
  '',
  'HKEY_CURRENT_USER\\Software\\SimonTatham\\PuTTY\\Sessions\\db1%20via%20office',
  '    HostName    REG_SZ    db1.lan',
  '    PortNumber    REG_DWORD    0x16',
  '    ProxyHost    REG_SZ    ',
  '    ProxyTelnetCommand    REG_SZ    connect %host %port    now\\n',
  '    (Default)    REG_SZ    x',
  '',
  'HKEY_CURRENT_USER\\Software\\SimonTatham\\PuTTY\\Sessions\\empty',
  '',
].join('\r\n');

test('reg query /s output: keys, values, empty data, data with runs of spaces', () => {
  const keys = parseRegQuery(WINDOWS_OUTPUT);
  const prefix = 'HKEY_CURRENT_USER\\Software\\SimonTatham\\PuTTY\\Sessions';
  assert.deepEqual([...keys.keys()], [prefix, `${prefix}\\db1%20via%20office`, `${prefix}\\empty`]);
  const db1 = keys.get(`${prefix}\\db1%20via%20office`)!;
  assert.deepEqual(db1.get('HostName'), { type: 'REG_SZ', data: 'db1.lan' });
  assert.deepEqual(db1.get('PortNumber'), { type: 'REG_DWORD', data: '0x16' });
  assert.deepEqual(db1.get('ProxyHost'), { type: 'REG_SZ', data: '' });
  assert.deepEqual(db1.get('ProxyTelnetCommand'), { type: 'REG_SZ', data: 'connect %host %port    now\\n' });
  assert.deepEqual(db1.get(''), { type: 'REG_SZ', data: 'x' });
  assert.equal(keys.get(`${prefix}\\empty`)!.size, 0);
});

test('key names and reg add data', () => {
  assert.equal(fullKeyName('HKCU\\Software\\X'), 'HKEY_CURRENT_USER\\Software\\X');
  assert.equal(regAddData({ type: 'REG_DWORD', data: '0xc32' }), '3122');
  assert.equal(regAddData({ type: 'REG_SZ', data: ' a "b" ' }), ' a "b" ');
});

test('session names: PuTTY\'s %XX escaping undone, UTF-8 or Latin-1', () => {
  for (const name of ['db1 via office', '.hidden 100% Zürich', 'back\\slash? *', 'Work/files server', 'tab\there']) {
    assert.equal(unescapeSessionName(escapePuttySessionName(name)), name);
  }
  assert.equal(unescapeSessionName('caf%E9'), 'café', 'not UTF-8: Latin-1');
  assert.equal(unescapeSessionName('100%'), '100%', 'a lone % stays');
});
