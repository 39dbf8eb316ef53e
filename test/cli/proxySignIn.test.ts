// What `wssh client` sends a proxy to sign in (issue 24), as a user runs the
// built CLI, against a hostile proxy on loopback that writes down every
// credential (test/fixtures/hostileProxy.ts): the user's own sign-in
// (Negotiate, here the stand-in kerberos module preloaded into the process,
// test/fixtures/standInKerberos.ts) does not go to a proxy a profile names
// unless the user names it too; a DOMAIN\user password does not go as Basic
// over plain http:// without --proxy-clear-basic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { formatProfile } from '../../src/core/dial/profile';
import { standInToken } from '../fixtures/standInKerberos';
import { startHostileProxy } from '../fixtures/hostileProxy';
import { WSSH_CLI, cleanEnv } from '../fixtures/wssh';
import { runProgram } from '../../scripts/harness/processes';
import { tempDir } from '../fixtures/tmp';

const STAND_IN = path.join(__dirname, '..', 'fixtures', 'standInKerberos.js');

/** `wssh client ARGS…` with the stand-in kerberos module, to its end (no tunnel opens: the proxy refuses). */
function client(args: string[]) {
  return runProgram(process.execPath, ['-r', STAND_IN, WSSH_CLI, 'client', ...args], { env: cleanEnv(), timeoutMs: 30_000 });
}

test("a profile's proxy does not get your Kerberos or Windows sign-in; given with --proxy by you, it does", async (t) => {
  const proxy = await startHostileProxy(t, { offer: ['Negotiate'] });
  const file = path.join(tempDir(t), 'office.wssh');
  fs.writeFileSync(
    file,
    formatProfile({ name: 'Office', uri: 'ws://gw.example.test/ssh', proxy: { url: proxy.url }, trust: { ca: [], pins: [], pinOnly: false } }),
  );

  const fromProfile = await client(['--profile', file, 'db1']);
  assert.equal(fromProfile.code, 1);
  assert.ok(proxy.seen.length > 0, 'the proxy was asked');
  assert.deepEqual(proxy.credentials(), [], 'no Negotiate token for a proxy the profile named');
  assert.match(
    fromProfile.stderr,
    /wants Negotiate \(407 Proxy Authentication Required\): your Windows sign-in \(Negotiate\) goes only to a proxy that the system's settings chose or that you approved, so it was not sent: to send it there, name that proxy yourself with --proxy URL, if you trust it/,
  );

  const named = await client(['--profile', file, '--proxy', proxy.url, 'db1']);
  assert.equal(named.code, 1);
  assert.deepEqual(proxy.credentials(), [`Negotiate ${standInToken('HTTP@127.0.0.1')}`], 'named by the user: the token goes');
});

test('a DOMAIN\\user password as Basic over plain http://: only with --proxy-clear-basic', async (t) => {
  // What an attacker on the path makes of the proxy's 407: Basic only.
  const proxy = await startHostileProxy(t, { offer: ['Basic realm="corp"'] });
  const url = `http://CORP%5Calice:s3cret@127.0.0.1:${proxy.port}`;
  const refused = await client([`ws://gw.example.test/ssh/db1`, '--proxy', url]);
  assert.equal(refused.code, 1);
  assert.deepEqual(proxy.credentials(), []);
  assert.match(
    refused.stderr,
    /CORP\\alice's password goes as Basic over plain http:\/\/ only if you allow it .*: use an https:\/\/ proxy, or send it anyway with --proxy-clear-basic/,
  );
  assert.doesNotMatch(refused.stderr, /s3cret/);

  const allowed = await client([`ws://gw.example.test/ssh/db1`, '--proxy', url, '--proxy-clear-basic']);
  assert.equal(allowed.code, 1);
  assert.deepEqual(proxy.credentials(), ['Basic CORP\\alice:s3cret'], 'sent once allowed');
});
