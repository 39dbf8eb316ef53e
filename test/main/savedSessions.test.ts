// The saved sessions and the system proxy reading the same reg.exe output
// alike (one runner, one parser: src/core/windowsRegistry.ts), and PuTTY's
// session name escaping both ways. (The registry itself: test/e2e/wine/savedSessions.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { RegRunner, fullKeyName, parseRegQuery, queryRegistryKey } from '../../src/core/windowsRegistry';
import { systemProxy } from '../../src/core/upstream/systemProxy';
import { INTERNET_SETTINGS_KEY } from '../../src/core/upstream/windowsProxySettings';
import { SESSION_CLIENTS, SavedSessions, unescapeSessionName } from '../../src/main/savedSessions/savedSessions';
import { SessionBackups } from '../../src/main/savedSessions/sessionBackups';
import { escapePuttySessionName } from '../../src/main/savedSessions/puttyReg';
import { tempDir } from '../fixtures/tmp';

const SETTINGS = fullKeyName(INTERNET_SETTINGS_KEY);
const PUTTY = SESSION_CLIENTS.find((c) => c.client === 'putty')!.key;

test('the system proxy and the saved sessions read reg through one runner and one parser, and agree', async (t) => {
  // One key's output, under each reader's own key: the same shapes, read the same way.
  const values = [
    '    ProxyEnable    REG_DWORD    0x1',
    '    ProxyServer    REG_SZ      proxy.corp:3128  ',
    '    HostName    REG_SZ      db1.lan',
    '    PortNumber    REG_DWORD    0x16',
    '    ProxyHost    REG_SZ    ',
    '    Proxy  Telnet  Command    REG_SZ    connect %host %port    now',
  ];
  const session = `${fullKeyName(PUTTY)}\\db1`;
  const answers = new Map<string, string>([
    [`query ${INTERNET_SETTINGS_KEY}`, ['', SETTINGS, ...values, ''].join('\r\n')],
    [`query ${PUTTY} /s`, ['', fullKeyName(PUTTY), '', session, ...values, ''].join('\r\n')],
  ]);
  const calls: string[] = [];
  const reg: RegRunner = {
    run: async (args) => {
      calls.push(args.join(' '));
      const stdout = answers.get(args.join(' '));
      if (stdout !== undefined) return { code: 0, stdout, stderr: '' };
      return { code: 1, stdout: '', stderr: 'ERROR: The system was unable to find the specified registry key or value.\r\n' };
    },
  };

  const proxyValues = await queryRegistryKey(INTERNET_SETTINGS_KEY, reg);
  const sessionValues = parseRegQuery((await reg.run(['query', PUTTY, '/s'])).stdout).get(session)!;
  assert.deepEqual(proxyValues, sessionValues, 'the same text, the same values');
  assert.deepEqual(proxyValues.get('ProxyServer'), { type: 'REG_SZ', data: '  proxy.corp:3128  ' });
  assert.deepEqual(proxyValues.get('Proxy  Telnet  Command'), { type: 'REG_SZ', data: 'connect %host %port    now' });

  const settings = await systemProxy({ platform: 'win32', reg }).settings();
  assert.deepEqual(settings, { proxyEnable: true, proxyServer: 'proxy.corp:3128', proxyOverride: undefined, autoConfigUrl: undefined });
  const backups = new SessionBackups(path.join(tempDir(t, 'wssh-reg-'), 'backups.json'));
  const sessions = new SavedSessions({ reg, backups, listen: () => ({ host: '127.0.0.1', port: 3122 }) });
  const view = await sessions.list();
  assert.equal(view.problem, undefined, 'KiTTY and WinSCP are missing keys: not installed, not a problem');
  assert.deepEqual(
    view.clients.map((c) => c.sessions.map((s) => [s.name, s.host, s.route])),
    [[['db1', '  db1.lan', 'direct']]],
  );
  assert.ok(calls.includes(`query ${INTERNET_SETTINGS_KEY}`) && calls.includes(`query ${PUTTY} /s`));
});

test("session names: PuTTY's %XX escaping undone, UTF-8 or Latin-1", () => {
  for (const name of ['db1 via office', '.hidden 100% Zürich', 'back\\slash? *', 'Work/files server', 'tab\there']) {
    assert.equal(unescapeSessionName(escapePuttySessionName(name)), name);
  }
  assert.equal(unescapeSessionName('caf%E9'), 'café', 'not UTF-8: Latin-1');
  assert.equal(unescapeSessionName('100%'), '100%', 'a lone % stays');
});
