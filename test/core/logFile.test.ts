// The size-rotated log file (src/core/logFile.ts): rotation at the limit,
// the number of old files kept, several writers on one file, and a failed
// write said once without throwing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LogFile } from '../../src/core/logFile';
import { tempDir } from '../fixtures/tmp';

const line = (n: number) => `${String(n).padStart(4, '0')} ${'x'.repeat(44)}\n`; // 50 bytes

test('a file is rotated before it would pass its limit; the oldest beyond `keep` are deleted', (t) => {
  const file = path.join(tempDir(t), 'logs', 'wssh.log');
  const log = new LogFile(file, { maxBytes: 200, keep: 2 });
  for (let n = 0; n < 20; n++) log.write(line(n));
  log.close();
  const read = (f: string) => fs.readFileSync(f, 'utf8');
  // 4 lines a file: the current one holds 16-19, .1 holds 12-15, .2 holds 8-11; 0-7 are gone.
  assert.equal(read(file), [16, 17, 18, 19].map(line).join(''));
  assert.equal(read(`${file}.1`), [12, 13, 14, 15].map(line).join(''));
  assert.equal(read(`${file}.2`), [8, 9, 10, 11].map(line).join(''));
  assert.equal(fs.existsSync(`${file}.3`), false);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'owner only');
});

test('an existing file is appended to, and counts toward the limit', (t) => {
  const file = path.join(tempDir(t), 'wssh.log');
  fs.writeFileSync(file, line(0) + line(1) + line(2));
  const log = new LogFile(file, { maxBytes: 200, keep: 1 });
  log.write(line(3));
  log.write(line(4));
  log.close();
  assert.equal(fs.readFileSync(file, 'utf8'), line(4));
  assert.equal(fs.readFileSync(`${file}.1`, 'utf8'), [0, 1, 2, 3].map(line).join(''));
});

test("two writers of one file: each counts the other's lines, and follows a rotation the other made", (t) => {
  const file = path.join(tempDir(t), 'wssh.log');
  const a = new LogFile(file, { maxBytes: 200, keep: 3 });
  const b = new LogFile(file, { maxBytes: 200, keep: 3 });
  for (let n = 0; n < 4; n++) (n % 2 ? b : a).write(line(n)); // interleaved: 200 bytes in all
  a.write(line(4)); // a rotates: 0-3 go to .1
  for (let n = 5; n < 8; n++) b.write(line(n)); // b writes on in the new file, not in the rotated one
  a.write(line(8)); // the new file is full with 4-7: a rotates it again
  a.close();
  b.close();
  const read = (f: string) => fs.readFileSync(f, 'utf8');
  assert.equal(read(file), line(8));
  assert.equal(read(`${file}.1`), [4, 5, 6, 7].map(line).join(''));
  assert.equal(read(`${file}.2`), [0, 1, 2, 3].map(line).join(''));
});

test('a write that fails is said once, and never throws', { skip: process.platform !== 'linux' && 'needs /dev/full' }, () => {
  const errors: string[] = [];
  const log = new LogFile('/dev/full', { onError: (err) => errors.push((err as NodeJS.ErrnoException).code ?? err.message) });
  for (let n = 0; n < 3; n++) log.write(line(n));
  log.close();
  assert.deepEqual(errors, ['ENOSPC']);
});

test('a file that cannot be opened throws at once', (t) => {
  const dir = tempDir(t);
  assert.throws(() => new LogFile(dir), { code: 'EISDIR' });
});
