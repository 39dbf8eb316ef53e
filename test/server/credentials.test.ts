// The users file: scrypt hashes that verify the right secret only, errors
// that name the line and never quote a hash, parameters bounded so that a
// file cannot make every login cost a gigabyte.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Credentials, CredentialsError, formatUserLine, hashSecret, loadCredentialsFile, userNameProblem } from '../../server/auth/credentials';
import { scryptQueue, type ScryptJob } from '../../server/auth/scryptQueue';
import { tempDir } from '../fixtures/tmp';

test('a hash made by hashSecret verifies its secret and nothing else', async () => {
  const hash = await hashSecret('correct horse');
  assert.match(hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  const users = Credentials.parse(formatUserLine('alice', hash));
  assert.equal(users.userCount, 1);
  assert.equal(await users.verify('alice', 'correct horse'), 'ok');
  assert.equal(await users.verify('alice', 'correct horse '), 'wrong secret');
  assert.equal(await users.verify('alice', ''), 'wrong secret');
  assert.equal(await users.verify('Alice', 'correct horse'), 'unknown user');
  assert.equal(await users.verify('bob', 'correct horse'), 'unknown user');
});

test('two hashes of one secret differ (fresh salt), and both verify', async () => {
  const [a, b] = await Promise.all([hashSecret('s3cret'), hashSecret('s3cret')]);
  assert.notEqual(a, b);
  const users = Credentials.parse(`a: ${a}\nb: ${b}\n`);
  assert.equal(await users.verify('a', 's3cret'), 'ok');
  assert.equal(await users.verify('b', 's3cret'), 'ok');
});

test('a hash from another scrypt implementation with other parameters verifies', async () => {
  // What an admin could make with any scrypt tool: N=1024, r=4, p=2, a 24-byte salt, a 48-byte key.
  const salt = crypto.randomBytes(24);
  const key = crypto.scryptSync('pässword', salt, 48, { N: 1024, r: 4, p: 2 });
  const users = Credentials.parse(`"bob@example.com": scrypt$1024$4$2$${salt.toString('base64url')}$${key.toString('base64url')}\n`);
  assert.equal(await users.verify('bob@example.com', 'pässword'), 'ok');
  // The same secret in decomposed Unicode (as some systems type it) is the same secret.
  assert.equal(await users.verify('bob@example.com', 'pa\u0308ssword'), 'ok');
});

/** Records the scrypt runs (they still run) that `work` makes: what a check costs, counted rather than timed. */
async function scryptRuns(t: TestContext, work: () => Promise<unknown>): Promise<Array<Omit<ScryptJob, 'secret' | 'salt'>>> {
  const hash = t.mock.method(scryptQueue, 'hash');
  try {
    await work();
    return hash.mock.calls.map(({ arguments: [job] }) => ({ N: job.N, r: job.r, p: job.p, keyBytes: job.keyBytes }));
  } finally {
    hash.mock.restore();
  }
}

test('an unknown user costs a scrypt run like a known one', async (t) => {
  const users = Credentials.parse(`alice: ${await hashSecret('x')}\n`);
  const known = await scryptRuns(t, () => users.verify('alice', `guess-${Math.random()}`));
  assert.deepEqual(known, [{ N: 16384, r: 8, p: 1, keyBytes: 32 }], "a check is one scrypt run with the line's parameters");
  const unknown = await scryptRuns(t, () => users.verify('nobody', `guess-${Math.random()}`));
  assert.deepEqual(unknown, known, 'an unknown user: the same run');
});

test('a success is remembered; the remembered one does not outlive a changed hash', async (t) => {
  const first = await hashSecret('one');
  const users = Credentials.parse(`alice: ${first}\n`);
  const check = () => users.verify('alice', 'one').then((verdict) => assert.equal(verdict, 'ok'));
  assert.equal((await scryptRuns(t, check)).length, 1, 'the first check is hashed');
  assert.deepEqual(await scryptRuns(t, check), [], 'the second check is remembered, not hashed again');
  // A reloaded file is a new Credentials: nothing remembered carries over.
  const changed = Credentials.parse(`alice: ${await hashSecret('two')}\n`);
  assert.equal((await scryptRuns(t, async () => assert.equal(await changed.verify('alice', 'one'), 'wrong secret'))).length, 1);
  assert.equal(await changed.verify('alice', 'two'), 'ok');
});

test('an empty file is valid and lets nobody in', async () => {
  for (const text of ['', '# no users yet\n', '---\n']) {
    const users = Credentials.parse(text);
    assert.equal(users.userCount, 0);
    assert.equal(await users.verify('alice', 'x'), 'unknown user');
  }
});

test('a broken file names the file, line and column, and never quotes the hash', async () => {
  const good = await hashSecret('x');
  const bad = (text: string, pattern: RegExp) => {
    assert.throws(
      () => Credentials.parse(text, '/etc/wssh/users.yml'),
      (err: unknown) => {
        assert.ok(err instanceof CredentialsError);
        assert.match(err.message, pattern);
        assert.ok(!err.message.includes(good.split('$')[5]), `no hash in: ${err.message}`);
        return true;
      },
    );
  };
  bad(`alice: ${good}\nbob ${good}\n`, /^\/etc\/wssh\/users\.yml:2:\d+: /);
  bad(`- alice\n`, /^\/etc\/wssh\/users\.yml:1:1: expected a mapping of user names/);
  bad(`alice: ${good}\nalice: ${good}\n`, /:2:1: duplicate user "alice" \(first at line 1\)/);
  bad(`alice: ${good.replace('scrypt', 'bcrypt')}\n`, /:1:8: the hash for "alice" is not scrypt\$N\$r\$p\$salt\$key/);
  bad(`alice: true\n`, /:1:8: the value for "alice" must be a hash made by wssh server --hash-secret/);
  bad(`alice:\n`, /:1:\d+: the value for "alice" must be a hash/);
  bad(`"a:b": ${good}\n`, /:1:1: a user name cannot contain ":"/);
  bad(`alice: ${good.replace('$16384$', '$1000$')}\n`, /N=1000: it must be a power of 2/);
  bad(`alice: ${good.replace('$16384$', '$1073741824$')}\n`, /N=1073741824: it must be a power of 2 from 2 to 1048576/);
  bad(`alice: ${good.replace('$16384$8$', '$1048576$8$')}\n`, /needs 1024 MiB per check/);
  bad(`alice: ${good.replace('$8$1$', '$8$99$')}\n`, /p=99: it must be 1 to 16/);
  bad(`alice: ${good.split('$').slice(0, 4).join('$')}$AAAA$${good.split('$')[5]}\n`, /a salt of 3 bytes/);
});

test('user names: what Basic auth can carry, quoted in YAML when needed', async () => {
  assert.equal(userNameProblem('alice'), undefined);
  assert.equal(userNameProblem('Jürgen Müller'), undefined);
  assert.match(userNameProblem('a:b')!, /cannot contain ":"/);
  assert.match(userNameProblem('a\nb')!, /control characters/);
  assert.match(userNameProblem('')!, /empty/);
  const hash = await hashSecret('pw');
  assert.equal(formatUserLine('alice.b@example.com', hash), `alice.b@example.com: ${hash}`);
  for (const name of ['Jürgen Müller', '1234', 'true', 'No', '#x', 'null', '- a', '0x1F', '1e3']) {
    const line = formatUserLine(name, hash);
    const users = Credentials.parse(line);
    assert.equal(await users.verify(name, 'pw'), 'ok', line);
  }
  // Written plainly by hand, a number or keyword is still the name as typed.
  for (const name of ['1234', 'null', 'true', 'yes']) {
    assert.equal(await Credentials.parse(`${name}: ${hash}\n`).verify(name, 'pw'), 'ok', name);
  }
});

test('loadCredentialsFile: a missing file, or a directory given for it, says so', (t) => {
  const dir = tempDir(t, 'wssh-users-');
  const file = path.join(dir, 'users.yml');
  assert.throws(() => loadCredentialsFile(file), { name: 'CredentialsError', message: `${file}: file not found` });
  assert.throws(() => loadCredentialsFile(dir), { name: 'CredentialsError', message: `${dir}: is a directory, not a file` });
  fs.writeFileSync(file, '');
  assert.equal(loadCredentialsFile(file).userCount, 0);
});
