import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { HostsPolicy, PolicyError } from '../../server/policy/hostsPolicy';
import { PolicyWatcher } from '../../server/policy/policyWatcher';
import { parseTarget } from '../../src/shared/target';

const INTERVAL_MS = 50;
const EVENT_TIMEOUT_MS = 5000;

const dir = mkdtempSync(join(tmpdir(), 'wssh-watch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const watchers: PolicyWatcher[] = [];
afterEach(() => {
  while (watchers.length) watchers.pop()!.close();
});

let fileNo = 0;
/** A fresh policy file per test. */
function policyFile(text: string): string {
  const path = join(dir, `hosts-${++fileNo}.yml`);
  writeFileSync(path, text);
  return path;
}

/**
 * Starts a watcher and waits until its poller reports a change, so that each
 * test starts from a watcher known to be polling: the file is touched (its
 * times only, the text stays) until a poll reports a touch. A report that
 * comes late is harmless: a reload reads the file as it is by then.
 */
async function watch(path: string): Promise<PolicyWatcher> {
  const w = new PolicyWatcher(path, { intervalMs: INTERVAL_MS });
  watchers.push(w);
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  for (let touch = 1; ; touch++) {
    const reported = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        w.off('reload', onReload);
        resolve(false);
      }, INTERVAL_MS * 4);
      const onReload = () => {
        clearTimeout(timer);
        resolve(true);
      };
      w.once('reload', onReload);
    });
    const at = new Date(Date.UTC(2020, 0, 1, 0, 0, touch));
    utimesSync(path, at, at);
    if (await reported) return w;
    if (Date.now() > deadline) throw new Error(`the watcher of ${path} reported none of ${touch} touches within ${EVENT_TIMEOUT_MS} ms`);
  }
}

/**
 * The next 'reload' or 'error'. Fails on the other one, or after a timeout
 * (whose timer also keeps the process alive: the watcher does not).
 */
function next(w: PolicyWatcher, event: 'reload'): Promise<HostsPolicy>;
function next(w: PolicyWatcher, event: 'error'): Promise<PolicyError>;
function next(w: PolicyWatcher, event: 'reload' | 'error'): Promise<HostsPolicy | PolicyError> {
  return new Promise((resolve, reject) => {
    const onReload = (policy: HostsPolicy): void => {
      done();
      if (event === 'reload') resolve(policy);
      else reject(new Error(`expected 'error', got 'reload' (${policy.ruleCount} rules)`));
    };
    const onError = (error: PolicyError): void => {
      done();
      if (event === 'error') resolve(error);
      else reject(new Error(`expected 'reload', got 'error': ${error.message}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no '${event}' within ${EVENT_TIMEOUT_MS} ms`));
    }, EVENT_TIMEOUT_MS);
    function done(): void {
      clearTimeout(timer);
      w.off('reload', onReload);
      w.off('error', onError);
    }
    w.on('reload', onReload);
    w.on('error', onError);
  });
}

function allows(policy: HostsPolicy, segment: string): boolean {
  return policy.decide(parseTarget(segment)).allow;
}

describe('PolicyWatcher', () => {
  test('loads the file at construction', () => {
    const w = new PolicyWatcher(policyFile('a: true\nb: true\n'), { intervalMs: INTERVAL_MS });
    watchers.push(w);
    assert.equal(w.policy.ruleCount, 2);
    assert.ok(allows(w.policy, 'a'));
  });

  test('a broken or missing file at start throws, so the server can refuse to start', () => {
    const broken = policyFile('a: true\nb: [\n');
    assert.throws(
      () => new PolicyWatcher(broken, { intervalMs: INTERVAL_MS }),
      (err: unknown) => {
        assert.ok(err instanceof PolicyError);
        assert.equal(err.file, broken);
        assert.equal(err.line, 3);
        assert.match(err.message, new RegExp(`^${broken.replace(/[.\\]/g, '\\$&')}:3:1: `));
        return true;
      },
    );
    const missing = join(dir, 'never-written.yml');
    assert.throws(() => new PolicyWatcher(missing), { name: 'PolicyError', message: `${missing}: file not found` });
  });

  test('refuses a non-positive interval', () => {
    assert.throws(() => new PolicyWatcher(policyFile('a: true\n'), { intervalMs: 0 }), RangeError);
  });

  test('reloads when the file changes', async () => {
    const path = policyFile('a: true\n');
    const w = await watch(path);
    const reloaded = next(w, 'reload');
    writeFileSync(path, 'b: true\nc: true\n');
    const policy = await reloaded;
    assert.equal(policy, w.policy);
    assert.equal(policy.ruleCount, 2);
    assert.ok(!allows(w.policy, 'a'));
    assert.ok(allows(w.policy, 'b'));
  });

  test('a broken edit is an error event with its line; the last good policy stays', async () => {
    const path = policyFile('a: true\n');
    const w = await watch(path);
    const good = w.policy;

    const failed = next(w, 'error');
    writeFileSync(path, 'a: true\n\n/[a/: true\n');
    const error = await failed;
    assert.ok(error instanceof PolicyError);
    assert.equal(error.file, path);
    assert.equal(error.line, 3);
    assert.equal(error.column, 1);
    assert.equal(error.message, `${path}:3:1: invalid regex /[a/: Unterminated character class`);
    assert.equal(w.policy, good);
    assert.ok(allows(w.policy, 'a'));

    // Fixing it takes effect at the next poll.
    const reloaded = next(w, 'reload');
    writeFileSync(path, 'a: true\n\n/\\[a/: true\n');
    assert.equal((await reloaded).ruleCount, 2);
  });

  test('a file replaced by rename, as editors save, is reloaded', async () => {
    const path = policyFile('a: true\n');
    const w = await watch(path);
    const reloaded = next(w, 'reload');
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, 'renamed: true\n');
    renameSync(tmp, path);
    await reloaded;
    assert.ok(allows(w.policy, 'renamed'));
    assert.ok(!allows(w.policy, 'a'));

    // And again: the watch follows the path, not the first inode.
    const again = next(w, 'reload');
    writeFileSync(tmp, 'second: true\n');
    renameSync(tmp, path);
    await again;
    assert.ok(allows(w.policy, 'second'));
  });

  test('a deleted file is an error event; the last good policy stays until it is back', async () => {
    const path = policyFile('a: true\n');
    const w = await watch(path);
    const good = w.policy;

    const failed = next(w, 'error');
    unlinkSync(path);
    const error = await failed;
    assert.equal(error.message, `${path}: file not found`);
    assert.equal(error.line, undefined);
    assert.equal(w.policy, good);

    const reloaded = next(w, 'reload');
    writeFileSync(path, 'back: true\n');
    await reloaded;
    assert.ok(allows(w.policy, 'back'));
  });

  test('an edit to an empty file is a reload that denies everything', async () => {
    const path = policyFile('a: true\n');
    const w = await watch(path);
    const reloaded = next(w, 'reload');
    writeFileSync(path, '# all closed for maintenance\n');
    assert.equal((await reloaded).ruleCount, 0);
    assert.ok(!allows(w.policy, 'a'));
  });

  test('reload() loads now and reports like a detected change', () => {
    const path = policyFile('a: true\n');
    const w = new PolicyWatcher(path, { intervalMs: 60_000 });
    watchers.push(w);
    const events: string[] = [];
    w.on('reload', () => events.push('reload'));
    w.on('error', (e) => events.push(`error ${e.line}`));

    writeFileSync(path, 'b: true\n');
    assert.equal(w.reload(), true);
    assert.ok(allows(w.policy, 'b'));
    writeFileSync(path, 'b: [\n');
    assert.equal(w.reload(), false);
    assert.ok(allows(w.policy, 'b'));
    assert.deepEqual(events, ['reload', 'error 2']);
  });

  test('without an error listener a bad edit is a process warning, not a crash', async () => {
    const path = policyFile('a: true\n');
    const w = await watch(path);
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const guard = setTimeout(() => assert.fail('no warning'), EVENT_TIMEOUT_MS);
    writeFileSync(path, '- a\n');
    const warning = await warned;
    clearTimeout(guard);
    assert.equal(warning.name, 'PolicyWarning');
    assert.match(warning.message, /:1:1: expected a mapping .*; keeping the last good policy$/);
    assert.ok(allows(w.policy, 'a'));
  });

  test('close() stops watching', async () => {
    const path = policyFile('a: true\n');
    const w = await watch(path);
    const events: string[] = [];
    w.on('reload', () => events.push('reload'));
    w.on('error', () => events.push('error'));
    w.close();
    writeFileSync(path, 'b: true\n');
    // Had w still watched, it would hear what a second watcher of the same
    // path hears (Node polls a path once, for all its listeners): the edit
    // above, the touches, and one more edit, which this waits for.
    const second = await watch(path);
    assert.ok(allows(second.policy, 'b'));
    const reloaded = next(second, 'reload');
    writeFileSync(path, 'c: true\n');
    await reloaded;
    assert.deepEqual(events, []);
    assert.ok(allows(w.policy, 'a'));
    assert.equal(w.reload(), false, 'a closed watcher does not load');
    w.close();
  });
});
