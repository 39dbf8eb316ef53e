// The replay buffer: what it keeps, drops and gives back for a replay, by
// absolute offsets, and how it counts in the process's buffer budget.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferBudget } from '../../src/core/tunnel/bufferBudget';
import { ReplayBuffer } from '../../src/core/tunnel/replayBuffer';
import { ResumeProtocolError } from '../../src/core/tunnel/resumeProtocol';

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString();

test('keeps the chunks given, drops what is acked, replays from any offset in between', () => {
  const budget = new BufferBudget(1024 * 1024);
  const replay = new ReplayBuffer(100, budget);
  const first = Buffer.from('abcde');
  replay.push(first);
  replay.push(Buffer.from('fgh'));
  replay.push(Buffer.from('ijklmnop'));
  assert.equal(replay.sent, 16);
  assert.equal(replay.size, 16);
  assert.equal(budget.buffered, 16);
  assert.equal(replay.from(0)[0], first, 'the chunk itself, not a copy');
  assert.equal(text(replay.from(0)), 'abcdefghijklmnop');
  assert.equal(text(replay.from(6)), 'ghijklmnop');
  assert.equal(text(replay.from(16)), '');
  replay.ack(3);
  assert.equal(replay.acked, 3);
  assert.equal(replay.size, 13);
  assert.equal(budget.buffered, 13);
  assert.equal(text(replay.from(3)), 'defghijklmnop');
  assert.equal(text(replay.from(9)), 'jklmnop');
  replay.ack(8); // exactly the end of a chunk
  assert.equal(text(replay.from(8)), 'ijklmnop');
  replay.ack(8); // the same total again: fine
  replay.ack(16);
  assert.equal(replay.size, 0);
  assert.equal(budget.buffered, 0);
  assert.equal(replay.peak, 16);
  replay.push(Buffer.from('qr'));
  assert.equal(text(replay.from(16)), 'qr');
  replay.close();
  assert.equal(budget.buffered, 0);
  assert.equal(budget.size, 0);
});

test('an ack beyond what was sent, or below what was acked, is refused', () => {
  const replay = new ReplayBuffer(100, new BufferBudget());
  replay.push(Buffer.from('0123456789'));
  replay.ack(4);
  for (const [n, message] of [
    [11, /acknowledges byte 11, but only 10 were sent/],
    [3, /acknowledges byte 3, but bytes up to 4 were acknowledged/],
    [-1, /not a count/],
    [1.5, /not a count/],
  ] as const) {
    assert.throws(
      () => replay.ack(n),
      (err: unknown) => err instanceof ResumeProtocolError && err.field === 'ack' && message.test(err.message),
    );
  }
  assert.equal(replay.acked, 4, 'a refused ack changes nothing');
  assert.throws(
    () => replay.from(11),
    (err: unknown) => err instanceof ResumeProtocolError && err.field === 'replay' && /only 10 were sent/.test(err.message),
  );
  assert.throws(
    () => replay.from(2),
    (err: unknown) => err instanceof ResumeProtocolError && /up to 4/.test(err.message),
  );
});

test('full at the window, or when the budget is spent and it holds more than its share', () => {
  const replay = new ReplayBuffer(64 * 1024, new BufferBudget(1024 * 1024));
  replay.push(Buffer.alloc(60 * 1024));
  assert.equal(replay.full, false);
  replay.push(Buffer.alloc(4 * 1024));
  assert.equal(replay.full, true);
  replay.ack(1024);
  assert.equal(replay.full, false);

  const budget = new BufferBudget(64 * 1024);
  const other = budget.open();
  other.add(48 * 1024);
  const shared = new ReplayBuffer(1024 * 1024, budget);
  shared.push(Buffer.alloc(20 * 1024));
  assert.equal(shared.full, false, 'below its share (half of 64 KiB)');
  shared.push(Buffer.alloc(20 * 1024));
  assert.equal(shared.full, true, 'the budget is spent and it holds more than its share');
});

test('many small chunks acked one by one stay cheap and exact', () => {
  const replay = new ReplayBuffer(1 << 30, new BufferBudget());
  for (let i = 0; i < 10_000; i++) replay.push(Buffer.from([i & 0xff]));
  for (let i = 1; i <= 9_990; i++) replay.ack(i);
  assert.deepEqual(
    [...Buffer.concat(replay.from(9_995))],
    [9_995, 9_996, 9_997, 9_998, 9_999].map((i) => i & 0xff),
  );
  assert.equal(replay.size, 10);
});
