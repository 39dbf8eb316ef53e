// Running out of descriptors, as the server and the local proxy log it: the
// message says the limit and what to do, and a burst of failures is one line
// with a count, not a line per failed connection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DescriptorAlarm, descriptorsMessage, outOfDescriptors } from '../../src/core/inbound/descriptors';

const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });

test('EMFILE and ENFILE are running out; the message names the limit and the fix', () => {
  assert.ok(outOfDescriptors(emfile));
  assert.ok(outOfDescriptors({ code: 'ENFILE' }));
  assert.ok(!outOfDescriptors(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })));
  assert.ok(!outOfDescriptors(undefined));
  assert.match(
    descriptorsMessage(emfile),
    /^out of file descriptors \(EMFILE: the limit is \d+ \(about \d+ tunnels\), 2 per tunnel\): raise it \(ulimit -n, LimitNOFILE=/,
  );
  assert.match(descriptorsMessage({ code: 'ENFILE' } as NodeJS.ErrnoException), /ENFILE.*fs\.file-max/);
});

test('a burst of failures is one line; the next burst says how many came between', () => {
  const lines: string[] = [];
  // A burst that never ends: only its first failure is logged.
  const alarm = new DescriptorAlarm((line) => lines.push(line), Number.MAX_SAFE_INTEGER);
  alarm.note('accepting a connection', emfile);
  for (let i = 0; i < 5; i++) alarm.note('a connect to db1.lan:22', emfile);
  assert.equal(alarm.total, 6);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0], /^out of file descriptors \(EMFILE: .*; connections are being dropped \(accepting a connection failed\)$/);

  // The burst over (no quiet time at all from now on): the next failure is
  // logged, with the ones held back since the last line.
  alarm.quietMs = -1;
  alarm.note('a connect to db2.lan:22', emfile);
  assert.equal(lines.length, 2);
  assert.match(lines[1], /connections are being dropped \(a connect to db2\.lan:22 failed; 5 more since the last such line\)$/);
  alarm.note('a connect to db2.lan:22', emfile);
  assert.ok(!/more since/.test(lines[2]), lines[2]);
});
