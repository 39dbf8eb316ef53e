// The saved sessions and the system proxy reading the same reg.exe output
// alike (one runner, one parser: src/core/windowsRegistry.ts), and PuTTY's
// session name escaping both ways; a session's own proxy password kept sealed
// for the switch back. (The registry itself: test/e2e/wine/savedSessions.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { RegRunner, RegValue, fullKeyName, parseRegQuery, queryRegistryKey } from '../../src/core/windowsRegistry';
import { systemProxy } from '../../src/core/upstream/systemProxy';
import { INTERNET_SETTINGS_KEY } from '../../src/core/upstream/windowsProxySettings';
import { SESSION_CLIENTS, SavedSessions, unescapeSessionName } from '../../src/main/savedSessions/savedSessions';
import { SessionBackups } from '../../src/main/savedSessions/sessionBackups';
import { escapePuttySessionName } from '../../src/main/savedSessions/puttyReg';
import { tempDir } from '../fixtures/tmp';
import { testCipher } from '../fixtures/appHarness';

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
  const backups = new SessionBackups(path.join(tempDir(t, 'wssh-reg-'), 'backups.json'), testCipher());
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

/** reg.exe's query, add and delete over a registry kept in memory, in reg.exe's words (the real one: test/e2e/wine/savedSessions.test.ts). */
function memoryRegistry(keys: Record<string, Record<string, RegValue>>): RegRunner & { keys: typeof keys } {
  const find = (key: string) => Object.keys(keys).find((k) => k.toLowerCase() === fullKeyName(key).toLowerCase());
  return {
    keys,
    run: async (args) => {
      const [verb, key, , name, , type, , data] = args;
      const found = find(key);
      if (verb === 'query' && found) {
        const lines = Object.entries(keys[found]).map(([n, v]) => `    ${n}    ${v.type}    ${v.data}`);
        return { code: 0, stdout: ['', found, ...lines, ''].join('\r\n'), stderr: '' };
      }
      if (verb === 'add' && found) keys[found][name] = { type, data: type === 'REG_DWORD' ? `0x${Number(data).toString(16)}` : data };
      else if (verb === 'delete' && found) delete keys[found][name];
      else return { code: 1, stdout: '', stderr: 'ERROR: The system was unable to find the specified registry key or value.\r\n' };
      return { code: 0, stdout: 'The operation completed successfully.\r\n', stderr: '' };
    },
  };
}

test("a session's own proxy password: sealed in the switch-back file, which is owner-only; switching back restores it (issue 24)", async (t) => {
  const session = `${fullKeyName(PUTTY)}\\squid%20user`;
  const own: Record<string, RegValue> = {
    HostName: { type: 'REG_SZ', data: 'db2.lan' },
    ProxyMethod: { type: 'REG_DWORD', data: '0x3' },
    ProxyHost: { type: 'REG_SZ', data: '10.0.0.5' },
    ProxyPort: { type: 'REG_DWORD', data: '0xc38' },
    ProxyUsername: { type: 'REG_SZ', data: 'alice' },
    ProxyPassword: { type: 'REG_SZ', data: 'her-own-proxy-pw' },
  };
  const reg = memoryRegistry({ [session]: { ...own } });
  const file = path.join(tempDir(t), 'session-switches.json');
  const cipher = testCipher();
  const sessions = (backups = new SessionBackups(file, cipher)) =>
    new SavedSessions({ reg, backups, listen: () => ({ host: '127.0.0.1', port: 3122 }), credential: () => ({ user: 'wssh-me', password: 'local-pw' }) });

  const switched = await sessions().switchToApp({ client: 'putty', key: 'squid%20user' });
  assert.ok(switched.ok, JSON.stringify(switched));
  assert.equal(reg.keys[session].ProxyPassword.data, 'local-pw', 'the session now signs in to the local proxy');
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(!text.includes('her-own-proxy-pw'), 'her password is not in the file in the clear');
  assert.ok(!text.includes('local-pw'));
  if (process.platform !== 'win32') assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'owner-only');

  // A restarted app, under the same account: switching back puts her password back.
  const back = await sessions().switchBack({ client: 'putty', key: 'squid%20user' });
  assert.ok(back.ok, JSON.stringify(back));
  assert.deepEqual(reg.keys[session], own);

  // Without the OS key store there is nowhere safe to keep it: the session is not switched, nothing written.
  const refused = await sessions(new SessionBackups(file, testCipher(false))).switchToApp({ client: 'putty', key: 'squid%20user' });
  assert.deepEqual(refused, {
    ok: false,
    error:
      'PuTTY session "squid user" has a proxy password of its own, which the switch back needs: ' +
      'the OS key store is not available, so the secret cannot be stored safely; nothing was changed',
  });
  assert.deepEqual(reg.keys[session], own);

  // A file from before, with the password in the clear: sealed when read.
  const older = {
    version: 1,
    switches: [{ client: 'putty', key: 'x', switchedAt: 1, before: { ProxyPassword: { type: 'REG_SZ', data: 'old-clear-pw' } }, wrote: {} }],
  };
  fs.writeFileSync(file, JSON.stringify(older));
  const read = new SessionBackups(file, cipher);
  assert.ok(!fs.readFileSync(file, 'utf8').includes('old-clear-pw'));
  assert.deepEqual(read.get('putty', 'x')?.before.ProxyPassword, { type: 'REG_SZ', data: 'old-clear-pw' });
});
