// Saved PuTTY, KiTTY and WinSCP sessions in a real registry: Wine's, in this
// run's private prefix (startWine clones it, so parallel runs never share an
// HKCU). The sessions are made with `reg add` as the clients store them,
// listed, switched to the app's proxy and back through SavedSessions running
// `wine reg`; `reg export` before and after proves the switch back restores
// every byte, values that were absent included. Then plink, given the values
// the switch wrote (read back from the registry into its session file: plink
// on Linux reads ~/.putty/sessions, not a registry), runs a command through
// `wssh connect` and `wssh server` to a real sshd.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { RegRunner, RegValues, parseRegQuery, fullKeyName } from '../../../src/core/windowsRegistry';
import { SESSION_CLIENTS, SavedSessions } from '../../../src/main/savedSessions/savedSessions';
import { SESSION_BACKUPS_FILE, SessionBackups } from '../../../src/main/savedSessions/sessionBackups';
import type { SavedSession } from '../../../src/shared/sessions';
import { startWine, winPath, type Wine } from '../../fixtures/wine';
import { wineReg, wineRegRunner } from '../../fixtures/wineReg';
import { requirePrograms } from '../../../scripts/harness/programs';
import { puttyKey, startSshd } from '../../fixtures/sshd';
import { plinkAt } from '../../fixtures/plink';
import { spawnWsshConnect, spawnWsshServer, writeHosts } from '../../fixtures/wssh';
import { waitForOutput } from '../../../scripts/harness/processes';
import { testCipher } from '../../fixtures/appHarness';

const PUTTY = SESSION_CLIENTS.find((c) => c.client === 'putty')!.key;
const KITTY = SESSION_CLIENTS.find((c) => c.client === 'kitty')!.key;
const WINSCP = SESSION_CLIENTS.find((c) => c.client === 'winscp')!.key;

async function reg(win: Wine, args: string[]): Promise<string> {
  const r = await wineReg(win, args);
  assert.equal(r.code, 0, `reg ${args.join(' ')}: ${r.output}`);
  return r.output;
}

/** A session as the client writes it: a few of its usual values, plus `extra` (name -> [type, data]). */
async function addSession(win: Wine, sessionsKey: string, key: string, host: string, extra: Record<string, [string, string]> = {}): Promise<void> {
  const values: Record<string, [string, string]> = { HostName: ['REG_SZ', host], PortNumber: ['REG_DWORD', '22'], Protocol: ['REG_SZ', 'ssh'], ...extra };
  for (const [name, [type, data]] of Object.entries(values)) await reg(win, ['add', `${sessionsKey}\\${key}`, '/v', name, '/t', type, '/d', data, '/f']);
}

/** `reg export KEY` into a file; its bytes. */
async function exported(win: Wine, key: string, name: string): Promise<Buffer> {
  const file = path.join(win.dir, `${name}.reg`);
  await reg(win, ['export', key, winPath(file), '/y']);
  return fs.readFileSync(file);
}

function byKey(sessions: SavedSession[]): Record<string, SavedSession> {
  return Object.fromEntries(sessions.map((s) => [s.key, s]));
}

test(
  'saved sessions in a real registry (Wine): listed, switched to the app and back byte for byte; plink uses the switched values',
  { timeout: 600_000 },
  async (t) => {
    const win = await startWine(t);
    if (!win) return;
    const runner = wineRegRunner(win);
    const backupsFile = path.join(win.dir, 'userData', SESSION_BACKUPS_FILE);
    // One key store for the whole run, as one Windows account has.
    const cipher = testCipher();
    let listenPort = 3122;
    const sessions = () =>
      new SavedSessions({ reg: runner, backups: new SessionBackups(backupsFile, cipher), listen: () => ({ host: '127.0.0.1', port: listenPort }) });

    await t.test('no client installed: nothing listed, nothing written', async () => {
      const writesBefore = runner.calls.filter((c) => c[0] !== 'query').length;
      assert.deepEqual(await sessions().list(), { clients: [] });
      assert.equal(runner.calls.filter((c) => c[0] !== 'query').length, writesBefore);
    });

    // PuTTY: a plain session with no proxy values at all, one behind a company
    // proxy (with a user name the switch leaves alone), names PuTTY escapes,
    // and one already on the app's port. KiTTY: one session. WinSCP: a site in
    // a folder, on SOCKS 5.
    await addSession(win, PUTTY, 'db1%20via%20office', 'db1.lan');
    await addSession(win, PUTTY, 'squid%20user', 'db2.lan', {
      ProxyMethod: ['REG_DWORD', '3'],
      ProxyHost: ['REG_SZ', '10.0.0.5'],
      ProxyPort: ['REG_DWORD', '3128'],
      ProxyLocalhost: ['REG_DWORD', '0'],
      ProxyUsername: ['REG_SZ', 'alice'],
    });
    await addSession(win, PUTTY, '%2Ehidden%20100%25%20Z%C3%BCrich', 'zh.example.ch', { PortNumber: ['REG_DWORD', '2222'], ProxyHost: ['REG_SZ', ''] });
    await addSession(win, PUTTY, 'already', 'localhost', {
      ProxyMethod: ['REG_DWORD', '3'],
      ProxyHost: ['REG_SZ', 'localhost'],
      ProxyPort: ['REG_DWORD', '3122'],
      ProxyLocalhost: ['REG_DWORD', '1'],
    });
    await addSession(win, KITTY, 'kitty%20box', 'box.lan');
    await addSession(win, WINSCP, 'Work/files%20server', 'files.lan', {
      ProxyMethod: ['REG_DWORD', '2'],
      ProxyHost: ['REG_SZ', 'socks.corp'],
      ProxyPort: ['REG_DWORD', '1080'],
    });

    await t.test("lists each installed client's sessions, unescaped, with the route each takes", async () => {
      const view = await sessions().list();
      assert.deepEqual(
        view.clients.map((c) => c.label),
        ['PuTTY', 'KiTTY', 'WinSCP'],
      );
      const putty = byKey(view.clients[0].sessions);
      assert.deepEqual(Object.keys(putty).sort(), ['%2Ehidden%20100%25%20Z%C3%BCrich', 'already', 'db1%20via%20office', 'squid%20user']);
      assert.equal(putty['db1%20via%20office'].name, 'db1 via office');
      assert.equal(putty['db1%20via%20office'].route, 'direct');
      assert.equal(putty['%2Ehidden%20100%25%20Z%C3%BCrich'].name, '.hidden 100% Zürich');
      assert.equal(putty['%2Ehidden%20100%25%20Z%C3%BCrich'].host, 'zh.example.ch:2222');
      assert.equal(putty['squid%20user'].route, 'other-proxy');
      assert.equal(putty['squid%20user'].routeText, 'HTTP proxy 10.0.0.5:3128');
      assert.equal(putty.already.route, 'ours');
      assert.equal(view.clients[1].sessions[0].name, 'kitty box');
      const site = view.clients[2].sessions[0];
      assert.equal(site.name, 'Work/files server');
      assert.equal(site.routeText, 'SOCKS 5 proxy socks.corp:1080');
      assert.ok(view.clients.every((c) => c.sessions.every((s) => !s.switchedByApp)));
    });

    await t.test('a Sessions key that cannot be read (access denied) is said, not taken for "not installed"', async () => {
      const denying: RegRunner = {
        run: (args) =>
          args[0] === 'query' && args[1] === WINSCP ? Promise.resolve({ code: 1, stdout: '', stderr: 'ERROR: Access is denied.\r\n' }) : runner.run(args),
      };
      const view = await new SavedSessions({
        reg: denying,
        backups: new SessionBackups(backupsFile, cipher),
        listen: () => ({ host: '127.0.0.1', port: listenPort }),
      }).list();
      assert.deepEqual(
        view.clients.map((c) => c.label),
        ['PuTTY', 'KiTTY'],
      );
      assert.equal(view.problem, "WinSCP's sessions cannot be read: Access is denied.");
    });

    await t.test('switch and switch back restore each key byte for byte (absent values deleted again)', async () => {
      for (const [client, sessionsKey, key] of [
        ['putty', PUTTY, 'db1%20via%20office'],
        ['putty', PUTTY, 'squid%20user'],
        ['putty', PUTTY, '%2Ehidden%20100%25%20Z%C3%BCrich'],
        ['kitty', KITTY, 'kitty%20box'],
        ['winscp', WINSCP, 'Work/files%20server'],
      ] as const) {
        const before = await exported(win, `${sessionsKey}\\${key}`, `${client}-before`);
        const switched = await sessions().switchToApp({ client, key });
        assert.ok(switched.ok, `${key}: ${!switched.ok && switched.error}`);
        assert.equal(switched.value.route, 'ours');
        assert.equal(switched.value.switchedByApp, true);
        const query: string = await reg(win, ['query', `${sessionsKey}\\${key}`]);
        const values: RegValues = parseRegQuery(query).get(fullKeyName(`${sessionsKey}\\${key}`))!;
        assert.deepEqual(
          ['ProxyMethod', 'ProxyHost', 'ProxyPort', 'ProxyLocalhost'].map((v): string => `${v}=${values.get(v)?.type} ${values.get(v)?.data}`),
          ['ProxyMethod=REG_DWORD 0x3', 'ProxyHost=REG_SZ 127.0.0.1', 'ProxyPort=REG_DWORD 0xc32', 'ProxyLocalhost=REG_DWORD 0x1'],
        );
        assert.equal(values.get('HostName')?.data !== undefined, true, 'other values stay');
        // A fresh SavedSessions (a restarted app) still knows the old values.
        const back = await sessions().switchBack({ client, key });
        assert.ok(back.ok, `${key}: ${!back.ok && back.error}`);
        assert.equal(back.value.switchedByApp, false);
        const after = await exported(win, `${sessionsKey}\\${key}`, `${client}-after`);
        assert.ok(after.equals(before), `${key} differs after switching back:\n${before.toString('utf16le')}\n---\n${after.toString('utf16le')}`);
      }
      assert.equal(JSON.parse(fs.readFileSync(backupsFile, 'utf8')).switches.length, 0);
    });

    await t.test('with the local proxy credential on, the switch writes it too; switch back restores the old user and password byte for byte', async () => {
      const credential = { user: 'wssh-test', password: 'p4ss-Word' };
      const withCredential = () =>
        new SavedSessions({
          reg: runner,
          backups: new SessionBackups(backupsFile, cipher),
          listen: () => ({ host: '127.0.0.1', port: listenPort }),
          credential: () => credential,
        });
      const key = 'squid%20user'; // has a user name for its own proxy, and now its password
      await reg(win, ['add', `${PUTTY}\\${key}`, '/v', 'ProxyPassword', '/t', 'REG_SZ', '/d', 'her-own-proxy-pw', '/f']);
      const before = await exported(win, `${PUTTY}\\${key}`, 'credential-before');
      const switched = await withCredential().switchToApp({ client: 'putty', key });
      assert.ok(switched.ok, !switched.ok ? switched.error : '');
      const values: RegValues = parseRegQuery(await reg(win, ['query', `${PUTTY}\\${key}`])).get(fullKeyName(`${PUTTY}\\${key}`))!;
      assert.equal(values.get('ProxyUsername')?.data, credential.user);
      assert.equal(values.get('ProxyPassword')?.data, credential.password);
      assert.ok(!fs.readFileSync(backupsFile, 'utf8').includes(credential.password), "the app's password is not in the backup file");
      assert.ok(!fs.readFileSync(backupsFile, 'utf8').includes('her-own-proxy-pw'), "the session's own password is kept sealed (issue 24)");
      assert.equal(fs.statSync(backupsFile).mode & 0o777, 0o600, 'the backup file is owner-only');
      const back = await withCredential().switchBack({ client: 'putty', key });
      assert.ok(back.ok, !back.ok ? back.error : '');
      const after = await exported(win, `${PUTTY}\\${key}`, 'credential-after');
      assert.ok(after.equals(before), `${key} differs after switching back`);
      await reg(win, ['delete', `${PUTTY}\\${key}`, '/v', 'ProxyPassword', '/f']);
    });

    await t.test('a new local proxy password reaches the sessions that had the old one, and switch back still restores them', async () => {
      let credential = { user: 'wssh-test', password: 'old-Pass1' };
      const withCredential = () =>
        new SavedSessions({
          reg: runner,
          backups: new SessionBackups(backupsFile, cipher),
          listen: () => ({ host: '127.0.0.1', port: listenPort }),
          credential: () => credential,
        });
      const proxyValues = async (sessionsKey: string, key: string) => {
        const values: RegValues = parseRegQuery(await reg(win, ['query', `${sessionsKey}\\${key}`])).get(fullKeyName(`${sessionsKey}\\${key}`))!;
        return { user: values.get('ProxyUsername')?.data, password: values.get('ProxyPassword')?.data };
      };
      // Switched by the app (PuTTY, KiTTY), and one set up by hand with the copied settings ("already").
      const putty = await exported(win, `${PUTTY}\\db1%20via%20office`, 'renew-putty-before');
      assert.ok((await withCredential().switchToApp({ client: 'putty', key: 'db1%20via%20office' })).ok);
      assert.ok((await withCredential().switchToApp({ client: 'kitty', key: 'kitty%20box' })).ok);
      await reg(win, ['add', `${PUTTY}\\already`, '/v', 'ProxyUsername', '/t', 'REG_SZ', '/d', credential.user, '/f']);
      await reg(win, ['add', `${PUTTY}\\already`, '/v', 'ProxyPassword', '/t', 'REG_SZ', '/d', credential.password, '/f']);
      // The user's own proxy, with a password of its own: not ours, left alone.
      await reg(win, ['add', `${PUTTY}\\squid%20user`, '/v', 'ProxyPassword', '/t', 'REG_SZ', '/d', credential.password, '/f']);
      const squid = await exported(win, `${PUTTY}\\squid%20user`, 'renew-squid-before');

      const before = credential;
      credential = { user: before.user, password: 'new-Pass2' };
      const renewal = await withCredential().renewPassword(before, credential);
      assert.equal(renewal.problem, undefined);
      assert.deepEqual([...renewal.updated].sort(), ['KiTTY session "kitty box"', 'PuTTY session "already"', 'PuTTY session "db1 via office"']);
      assert.deepEqual(await proxyValues(PUTTY, 'db1%20via%20office'), credential);
      assert.deepEqual(await proxyValues(KITTY, 'kitty%20box'), credential);
      assert.deepEqual(await proxyValues(PUTTY, 'already'), credential);
      assert.ok((await exported(win, `${PUTTY}\\squid%20user`, 'renew-squid-after')).equals(squid), 'a session on another proxy is not touched');
      assert.deepEqual(await withCredential().renewPassword(before, credential), { updated: [] }, 'nothing has the old password any more');

      // The switch backs compare what the switch wrote, never the password: they still restore byte for byte.
      assert.ok((await withCredential().switchBack({ client: 'putty', key: 'db1%20via%20office' })).ok);
      assert.ok((await exported(win, `${PUTTY}\\db1%20via%20office`, 'renew-putty-after')).equals(putty));
      assert.ok((await withCredential().switchBack({ client: 'kitty', key: 'kitty%20box' })).ok);
      for (const [key, name] of [
        ['already', 'ProxyUsername'],
        ['already', 'ProxyPassword'],
        ['squid%20user', 'ProxyPassword'],
      ]) {
        await reg(win, ['delete', `${PUTTY}\\${key}`, '/v', name, '/f']);
      }
    });

    await t.test('a session already on the app, a missing one, a bad name: refused, nothing written', async () => {
      const before = await exported(win, PUTTY, 'putty-all-before');
      const s = sessions();
      const already = await s.switchToApp({ client: 'putty', key: 'already' });
      assert.deepEqual(already, { ok: false, error: 'PuTTY session "already" already goes through this app\'s proxy' });
      const missing = await s.switchToApp({ client: 'putty', key: 'gone%20now' });
      assert.deepEqual(missing, { ok: false, error: 'there is no PuTTY session "gone now" (deleted since the list was read?)' });
      const bad = await s.switchToApp({ client: 'putty', key: 'a\\b' });
      assert.equal(bad.ok, false);
      const notOurs = await s.switchBack({ client: 'putty', key: 'db1%20via%20office' });
      assert.deepEqual(notOurs, { ok: false, error: 'this app did not switch PuTTY session "db1 via office": there is nothing to switch back to' });
      assert.ok((await exported(win, PUTTY, 'putty-all-after')).equals(before), 'the Sessions key is unchanged');
    });

    await t.test('a write refused halfway (a read-only key): the values written are put back', async () => {
      const key = 'squid%20user';
      const before = await exported(win, `${PUTTY}\\${key}`, 'ro-before');
      let adds = 0;
      const refusing: RegRunner = {
        run: (args) => {
          if (args[0] === 'add' && ++adds === 3) return Promise.resolve({ code: 1, stdout: '', stderr: 'ERROR: Access is denied.\r\n' });
          return runner.run(args);
        },
      };
      const s = new SavedSessions({ reg: refusing, backups: new SessionBackups(backupsFile, cipher), listen: () => ({ host: '127.0.0.1', port: listenPort }) });
      const r = await s.switchToApp({ client: 'putty', key });
      assert.deepEqual(r, { ok: false, error: 'cannot change PuTTY session "squid user": Access is denied.' });
      assert.ok((await exported(win, `${PUTTY}\\${key}`, 'ro-after')).equals(before), 'the two values written were put back');
      assert.equal(new SessionBackups(backupsFile, cipher).get('putty', key), undefined, 'no stale backup');
    });

    await t.test('a session changed after the switch is not overwritten by "Switch back"', async () => {
      const key = 'db1%20via%20office';
      assert.ok((await sessions().switchToApp({ client: 'putty', key })).ok);
      await reg(win, ['add', `${PUTTY}\\${key}`, '/v', 'ProxyPort', '/t', 'REG_DWORD', '/d', '8080', '/f']);
      const changed = await exported(win, `${PUTTY}\\${key}`, 'changed');
      const back = await sessions().switchBack({ client: 'putty', key });
      assert.deepEqual(back, {
        ok: false,
        error:
          'PuTTY session "db1 via office" was changed after the switch (ProxyPort): switching back would overwrite that, so it was left as it is' +
          ' (its values before the switch: ProxyMethod=(none), ProxyHost=(none), ProxyPort=(none), ProxyLocalhost=(none))',
      });
      assert.ok((await exported(win, `${PUTTY}\\${key}`, 'changed-after')).equals(changed));
    });

    await t.test('plink with a switched session runs a command through wssh connect and wssh server', async (st) => {
      const programs = requirePrograms(st, 'sshd', 'plink', 'puttygen');
      if (!programs) return;
      const sshd = await startSshd();
      st.after(() => sshd.stop());
      const ppk = await puttyKey(sshd);
      const hostsFile = writeHosts(win.dir, `"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"\n`);
      const server = await spawnWsshServer(hostsFile);
      st.after(() => server.stop());
      const proxy = await spawnWsshConnect(`ws://127.0.0.1:${server.port}/ssh`);
      st.after(() => proxy.stop());
      listenPort = proxy.port;

      const key = 'kitty%20box';
      const switched = await sessions().switchToApp({ client: 'kitty', key });
      assert.ok(switched.ok, !switched.ok ? switched.error : '');
      // plink's session file, from the values now in the registry (DWORDs in decimal, as PuTTY's files hold them).
      const values = parseRegQuery(await reg(win, ['query', `${KITTY}\\${key}`])).get(fullKeyName(`${KITTY}\\${key}`))!;
      const lines = ['ProxyMethod', 'ProxyHost', 'ProxyPort', 'ProxyLocalhost'].map((v) => {
        const value = values.get(v)!;
        return `${v}=${value.type === 'REG_DWORD' ? Number(value.data) : value.data}`;
      });
      assert.deepEqual(lines, ['ProxyMethod=3', 'ProxyHost=127.0.0.1', `ProxyPort=${proxy.port}`, 'ProxyLocalhost=1']);
      const home = path.join(win.dir, 'home');
      fs.mkdirSync(path.join(home, '.putty', 'sessions'), { recursive: true });
      fs.writeFileSync(path.join(home, '.putty', 'sessions', 'switched'), lines.join('\n') + '\n');
      const r = await plinkAt({ home, sshd, ppk, plink: programs.plink })('switched', 'localhost', 'echo ok');
      assert.equal(r.code, 0, `plink failed: ${r.stderr}\n${proxy.output()}\n${server.output()}`);
      assert.equal(r.stdout.toString(), 'ok\n');
      await waitForOutput(proxy, new RegExp(`tunnel \\d+ open 127\\.0\\.0\\.1:\\d+ -> localhost:${sshd.port}`));
      assert.ok((await sessions().switchBack({ client: 'kitty', key })).ok);
    });
  },
);
