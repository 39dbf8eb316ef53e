// The failed-login backoff on its own: waits that double per failure up to a
// cap, one check per delay however many connections an address opens, a
// success that clears the address, and a table that never outgrows its bound.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureBackoff } from '../../server/auth/failureBackoff';
import { ManualClock } from '../fixtures/manualClock';

// The backoff runs on a clock of the test's: a wait is the sleep it asks for,
// and it ends only when the test moves the clock, so nothing here depends on
// how fast the machine is.

/** Whether wait() returns without asking for a sleep (the address is not slowed). */
async function waitsNot(clock: ManualClock, backoff: FailureBackoff, address: string): Promise<boolean> {
  const { waits } = await clock.runPastSleeps(() => backoff.wait(address));
  return waits.length === 0;
}

test('delays double from the base up to the cap', () => {
  const backoff = new FailureBackoff({ baseDelayMs: 100, maxDelayMs: 1000 });
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoff.delayAfter(n)),
    [0, 100, 200, 400, 800, 1000, 1000, 1000],
  );
});

test('an address without failures never waits; one with failures waits, longer each time', async () => {
  const clock = new ManualClock();
  const backoff = new FailureBackoff({ baseDelayMs: 80, maxDelayMs: 10_000, clock });
  assert.ok(await waitsNot(clock, backoff, '192.0.2.1'));
  backoff.failed('192.0.2.1');
  const asked = clock.requested.length;
  const first = backoff.wait('192.0.2.1');
  assert.equal(await clock.sleepRequest(asked), 80, 'after 1 failure');
  clock.advance(79);
  assert.equal(clock.sleeping, 1, 'not over before its time');
  clock.advance(1);
  await first;
  backoff.failed('192.0.2.1');
  // Its turn came 80 ms after the first failure; the second failure doubles the delay from now.
  assert.deepEqual((await clock.runPastSleeps(() => backoff.wait('192.0.2.1'))).waits, [160], 'after 2 failures');
  // Another address is not slowed by the first one's failures.
  assert.ok(await waitsNot(clock, backoff, '192.0.2.2'));
});

test('parallel attempts from one address are spread out: one check per delay', async () => {
  const clock = new ManualClock();
  const backoff = new FailureBackoff({ baseDelayMs: 100, maxDelayMs: 100, clock });
  backoff.failed('198.51.100.7');
  const done: number[] = [];
  const waits = Promise.all(Array.from({ length: 5 }, () => backoff.wait('198.51.100.7').then(() => done.push(clock.now()))));
  // Slots at 100, 200, 300, 400, 500 ms, not all at 100.
  assert.deepEqual(clock.requested, [100, 200, 300, 400, 500]);
  const start = clock.now();
  for (let i = 0; i < 5; i++) {
    clock.advance(100);
    await new Promise((r) => setImmediate(r)); // the woken wait records the time before the clock moves again
  }
  await waits;
  assert.deepEqual(
    done.map((at) => at - start),
    [100, 200, 300, 400, 500],
  );
});

test('a success clears the address', async () => {
  const clock = new ManualClock();
  const backoff = new FailureBackoff({ baseDelayMs: 5000, clock });
  backoff.failed('203.0.113.1');
  backoff.failed('203.0.113.1');
  backoff.succeeded('203.0.113.1');
  assert.equal(backoff.size, 0);
  assert.ok(await waitsNot(clock, backoff, '203.0.113.1'));
});

test('a wait ends with an AbortError when the client goes away', async () => {
  const clock = new ManualClock();
  const backoff = new FailureBackoff({ baseDelayMs: 10_000, clock });
  backoff.failed('203.0.113.2');
  const controller = new AbortController();
  const waiting = backoff.wait('203.0.113.2', controller.signal);
  assert.deepEqual(clock.requested, [10_000]);
  controller.abort();
  // The clock never moved: only the abort can have ended it.
  await assert.rejects(waiting, { name: 'AbortError' });
  assert.equal(clock.sleeping, 0);
});

test('an address is forgotten some time after its last failure', async () => {
  const clock = new ManualClock();
  const backoff = new FailureBackoff({ baseDelayMs: 10, maxDelayMs: 10, forgetAfterMs: 50, clock });
  backoff.failed('203.0.113.3');
  clock.advance(50);
  assert.equal(backoff.wouldWait('203.0.113.3'), false, 'its turn has come');
  assert.equal(backoff.size, 1, 'but it is remembered until forgetAfterMs has passed');
  clock.advance(1);
  assert.ok(await waitsNot(clock, backoff, '203.0.113.3'));
  assert.equal(backoff.size, 0);
});

test('the table is bounded: the least recently failed addresses go first', async () => {
  const clock = new ManualClock();
  const backoff = new FailureBackoff({ maxEntries: 100, baseDelayMs: 60_000, clock });
  const address = (i: number) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
  for (let i = 0; i < 10_000; i++) backoff.failed(address(i));
  assert.equal(backoff.size, 100);
  /** Whether an attempt from the address would wait (the clock never moves here: a kept one is still slowed). */
  const slowed = (a: string) => backoff.wouldWait(a);
  assert.equal(slowed(address(0)), false, 'the oldest was pushed out');
  assert.equal(slowed(address(9899)), false);
  assert.equal(slowed(address(9900)), true, 'the 100 newest are kept');
  assert.equal(slowed(address(9999)), true);
  // Failing again moves an address to the back: 99 newcomers push out 9901..9999, not 9900.
  backoff.failed(address(9900));
  for (let i = 20_000; i < 20_099; i++) backoff.failed(address(i));
  assert.equal(backoff.size, 100);
  assert.equal(slowed(address(9900)), true);
  assert.equal(slowed(address(9901)), false);
  assert.equal(clock.requested.length, 0);
});
