// The failed-login backoff on its own: waits that double per failure up to a
// cap, one check per delay however many connections an address opens, a
// success that clears the address, and a table that never outgrows its bound.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureBackoff } from '../../server/failureBackoff';

/** How long wait() took, in ms. */
async function timedWait(backoff: FailureBackoff, address: string, signal?: AbortSignal): Promise<number> {
  const start = Date.now();
  await backoff.wait(address, signal);
  return Date.now() - start;
}

test('delays double from the base up to the cap', () => {
  const backoff = new FailureBackoff({ baseDelayMs: 100, maxDelayMs: 1000 });
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoff.delayAfter(n)), [0, 100, 200, 400, 800, 1000, 1000, 1000]);
});

test('an address without failures never waits; one with failures waits, longer each time', async () => {
  const backoff = new FailureBackoff({ baseDelayMs: 80, maxDelayMs: 10_000 });
  assert.ok((await timedWait(backoff, '192.0.2.1')) < 20);
  backoff.failed('192.0.2.1');
  const first = await timedWait(backoff, '192.0.2.1');
  assert.ok(first >= 70 && first < 400, `after 1 failure: ${first} ms`);
  backoff.failed('192.0.2.1');
  const second = await timedWait(backoff, '192.0.2.1');
  assert.ok(second >= 150 && second < 600, `after 2 failures: ${second} ms`);
  // Another address is not slowed by the first one's failures.
  assert.ok((await timedWait(backoff, '192.0.2.2')) < 20);
});

test('parallel attempts from one address are spread out: one check per delay', async () => {
  const backoff = new FailureBackoff({ baseDelayMs: 100, maxDelayMs: 100 });
  backoff.failed('198.51.100.7');
  const start = Date.now();
  const done: number[] = [];
  await Promise.all(
    Array.from({ length: 5 }, () => backoff.wait('198.51.100.7').then(() => done.push(Date.now() - start))),
  );
  done.sort((a, b) => a - b);
  // Slots at about 100, 200, 300, 400, 500 ms, not all at 100.
  for (let i = 0; i < done.length; i++) {
    assert.ok(done[i] >= 90 + i * 100, `attempt ${i + 1} at ${done[i]} ms: ${done.join(', ')}`);
  }
});

test('a success clears the address', async () => {
  const backoff = new FailureBackoff({ baseDelayMs: 5000 });
  backoff.failed('203.0.113.1');
  backoff.failed('203.0.113.1');
  backoff.succeeded('203.0.113.1');
  assert.equal(backoff.size, 0);
  assert.ok((await timedWait(backoff, '203.0.113.1')) < 20);
});

test('a wait ends with an AbortError when the client goes away', async () => {
  const backoff = new FailureBackoff({ baseDelayMs: 10_000 });
  backoff.failed('203.0.113.2');
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const start = Date.now();
  await assert.rejects(backoff.wait('203.0.113.2', controller.signal), { name: 'AbortError' });
  assert.ok(Date.now() - start < 1000);
});

test('an address is forgotten some time after its last failure', async () => {
  const backoff = new FailureBackoff({ baseDelayMs: 10, maxDelayMs: 10, forgetAfterMs: 50 });
  backoff.failed('203.0.113.3');
  await new Promise((r) => setTimeout(r, 100));
  assert.ok((await timedWait(backoff, '203.0.113.3')) < 5);
  assert.equal(backoff.size, 0);
});

test('the table is bounded: the least recently failed addresses go first', async () => {
  const backoff = new FailureBackoff({ maxEntries: 100, baseDelayMs: 60_000 });
  const address = (i: number) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
  for (let i = 0; i < 10_000; i++) backoff.failed(address(i));
  assert.equal(backoff.size, 100);
  /** Whether the address is still slowed (its wait outlasts 20 ms). */
  const slowed = (a: string) =>
    backoff.wait(a, AbortSignal.timeout(20)).then(
      () => false,
      () => true,
    );
  assert.equal(await slowed(address(0)), false, 'the oldest was pushed out');
  assert.equal(await slowed(address(9899)), false);
  assert.equal(await slowed(address(9900)), true, 'the 100 newest are kept');
  assert.equal(await slowed(address(9999)), true);
  // Failing again moves an address to the back: 99 newcomers push out 9901..9999, not 9900.
  backoff.failed(address(9900));
  for (let i = 20_000; i < 20_099; i++) backoff.failed(address(i));
  assert.equal(backoff.size, 100);
  assert.equal(await slowed(address(9900)), true);
  assert.equal(await slowed(address(9901)), false);
});
