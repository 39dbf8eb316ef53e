// The room wssh keeps under V8's old-generation limit (src/core/inbound/heapHeadroom.ts),
// read from V8's own trace of the limits it sets at each full collection
// (--trace-gc-verbose: "[HeapController] Limit: old size: N KB, new limit: M KB"),
// in a child that forces those collections with gc().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_HEAP_HEADROOM, growingPercent } from '../../src/core/inbound/heapHeadroom';

const MiB = 1024 * 1024;
const MODULE = path.join(__dirname, '..', '..', 'src', 'core', 'inbound', 'heapHeadroom.js');
// Bigger than the default, so that it stands well clear of what V8 leaves on its own (4 x live at most).
const HEADROOM = 128 * MiB;

interface Limit {
  phase: string;
  old: number;
  limit: number;
}

/**
 * Runs a child that keeps HEADROOM, holds about 10 MB, runs three full
 * collections ("steady"), then grows what it holds to about 60 MB (V8 may
 * collect on its own meanwhile: "growing") and runs one more ("grown"). Each collection waits for a GC entry delivered after
 * the allocation, so that the module has seen the heap first.
 */
function limits(nodeFlags: string[] = []): Limit[] {
  const script = `
    const { PerformanceObserver } = require('node:perf_hooks');
    require(${JSON.stringify(MODULE)}).keepHeapHeadroom(${HEADROOM});
    let seen = 0;
    new PerformanceObserver((list) => { seen += list.getEntries().length; }).observe({ entryTypes: ['gc'] });
    const gcSeen = async () => { const before = seen; while (seen === before) await new Promise((r) => setImmediate(r)); };
    const held = [];
    const hold = (mb) => { for (let i = 0; i < mb * 10000; i++) held.push({ i, s: 'y' + i }); };
    (async () => {
      hold(10);
      for (let i = 0; i < 3; i++) { await gcSeen(); console.log('PHASE steady'); gc(); }
      console.log('PHASE growing');
      for (let i = 0; i < 14; i++) { hold(5); await new Promise((r) => setImmediate(r)); }
      await gcSeen();
      console.log('PHASE grown');
      gc();
      await gcSeen();
    })();`;
  const out = execFileSync(process.execPath, [...nodeFlags, '--expose-gc', '--trace-gc-verbose', '-e', script], { encoding: 'utf8', maxBuffer: 64 * MiB });
  const found: Limit[] = [];
  let phase = 'start';
  for (const line of out.split('\n')) {
    const p = /^PHASE (\w+)/.exec(line);
    if (p) phase = p[1];
    const m = /\[HeapController\] Limit: old size: (\d+) KB, new limit: (\d+) KB/.exec(line);
    if (m && phase !== 'start') found.push({ phase, old: Number(m[1]) * 1024, limit: Number(m[2]) * 1024 });
  }
  assert.ok(found.some((l) => l.phase === 'steady') && found.some((l) => l.phase === 'grown'), `V8 traced the limits it set:\n${out.slice(-2000)}`);
  return found;
}

const mb = (n: number) => `${(n / MiB).toFixed(0)} MiB`;
const show = (found: Limit[]) => found.map((l) => `${l.phase}: ${mb(l.old)} -> ${mb(l.limit)}`).join('; ');

test('the growing factor puts the limit the headroom above the heap, and gives way to V8 above it', () => {
  assert.equal(growingPercent(8 * MiB), 800);
  assert.equal(growingPercent(32 * MiB), 200);
  assert.equal(growingPercent(DEFAULT_HEAP_HEADROOM), 100);
  assert.equal(growingPercent(DEFAULT_HEAP_HEADROOM + 1), 0);
  assert.equal(growingPercent(1024 * MiB), 0);
  assert.equal(growingPercent(0), 0);
  assert.equal(growingPercent(10 * MiB, 5 * MiB), 0);
});

test('a small heap gets the headroom under its limit, and a heap that grew gets no more than its share', () => {
  const found = limits();
  for (const l of found.filter((x) => x.phase === 'steady')) {
    assert.ok(l.limit - l.old >= 0.75 * HEADROOM, `about ${mb(HEADROOM)} of room above the live heap: ${show(found)}`);
  }
  // Set from the heap as it grew, not from the 10 MB heap the last full collection saw (a factor of 13).
  for (const l of found.filter((x) => x.phase === 'grown')) {
    assert.ok(l.old > 40 * MiB, `the heap grew: ${show(found)}`);
    assert.ok(l.limit - l.old <= 1.5 * HEADROOM, `no more than the headroom above a heap that grew: ${show(found)}`);
  }
});

test('a heap flag on the command line is left as given', () => {
  // V8's own factor (at most 4 x live): what the child would get without the module.
  const found = limits(['--heap-growing-percent=0']);
  const steady = found.filter((x) => x.phase === 'steady');
  assert.ok(
    steady.every((l) => l.limit - l.old < 0.75 * HEADROOM),
    `V8's own limits: ${show(found)}`,
  );
});
