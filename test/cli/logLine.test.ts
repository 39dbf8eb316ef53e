// The CLI's log lines leave in one write per turn of the event loop
// (src/cli/logLine.ts): none is lost or reordered, at exit or beside other
// writes to stderr.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const LOG_LINE = path.join(__dirname, '..', '..', 'src', 'cli', 'logLine.js');

/** Runs `body` in a child with logLine in scope; its stderr and exit status. */
function child(body: string): { stderr: string; status: number | null } {
  const script = `const { logLine } = require(${JSON.stringify(LOG_LINE)});\n${body}`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return { stderr: r.stderr, status: r.status };
}

const lines = (stderr: string) =>
  stderr
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^\S+ /, ''));

test('lines logged across turns of the event loop come out whole and in order, each with its timestamp', () => {
  const r = child(`
    logLine('one'); logLine('two');
    setImmediate(() => { logLine('three'); setTimeout(() => logLine('four'), 1); });`);
  assert.equal(r.status, 0);
  assert.deepEqual(lines(r.stderr), ['one', 'two', 'three', 'four']);
  for (const l of r.stderr.split('\n').filter(Boolean)) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \w+$/);
});

test('lines logged just before process.exit are written', () => {
  const r = child(`logLine('before exit'); process.exit(3);`);
  assert.equal(r.status, 3);
  assert.deepEqual(lines(r.stderr), ['before exit']);
});

test('a message written straight to stderr comes after the lines logged before it', () => {
  const r = child(`logLine('hosts: 3 rules'); process.stderr.write('wssh: listen EADDRINUSE\\n'); process.exit(1);`);
  assert.deepEqual(
    r.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\S+Z /, '')),
    ['hosts: 3 rules', 'wssh: listen EADDRINUSE'],
  );
});

test('every line leaves escaped: no terminal control, C1 or bidi character gets through, whoever wrote the text', () => {
  const script = `
    const { logLine, stderrNote } = require(${JSON.stringify(LOG_LINE)});
    const text = 'a\\u001b]52;c;eA==\\u0007b\\u009b2Jc\\u202ed\\r\\ne\\tf';
    logLine(text); stderrNote(text);`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const escaped = 'a\\x1b]52;c;eA==\\x07b\\x9b2Jc\\u202ed\\x0d\\x0ae\\x09f';
  assert.deepEqual(lines(r.stderr), [escaped, escaped]);
  assert.match(r.stderr, /^\S+Z a\\x1b.*\nwssh: a\\x1b/);
});
