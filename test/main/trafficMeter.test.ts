// Rates from byte counters: per tunnel and in total, tunnels that open or
// close between samples, and the one-minute history.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrafficMeter } from '../../src/main/tunnel/trafficMeter';
import { formatRate } from '../../src/shared/traffic';

test("rates are the counters' growth per second since the last sample", () => {
  const meter = new TrafficMeter();
  const t0 = 1_000_000;
  const first = meter.sample([{ id: 1, openedAt: t0 - 1000, up: 1000, down: 4000 }], t0);
  assert.deepEqual(first.perTunnel, [{ id: 1, up: 1000, down: 4000 }]);
  const second = meter.sample([{ id: 1, openedAt: t0 - 1000, up: 3000, down: 4000 }], t0 + 2000);
  assert.deepEqual(second.perTunnel, [{ id: 1, up: 1000, down: 0 }]);
  assert.equal(second.up, 1000);
  assert.equal(second.down, 0);
  assert.equal(second.tunnels, 1);
  assert.deepEqual(
    second.history.map((s) => s.at),
    [t0, t0 + 2000],
  );
});

test('a tunnel opened since the last sample counts from its opening; one that closed still counts in the total', () => {
  const meter = new TrafficMeter();
  meter.sample([{ id: 1, openedAt: 0, up: 0, down: 0 }], 10_000);
  // Tunnel 2 opened half a second before the sample: 500 bytes is 1000 B/s.
  // Tunnel 1 closed after moving 2000 bytes up since the last sample.
  meter.closed({ id: 1, openedAt: 0, up: 2000, down: 0 });
  const s = meter.sample([{ id: 2, openedAt: 10_500, up: 500, down: 0 }], 11_000);
  assert.deepEqual(s.perTunnel, [{ id: 2, up: 1000, down: 0 }]);
  assert.equal(s.up, 2500, "both tunnels' bytes over the one second");
  assert.equal(s.tunnels, 1);
  // The closed one's bytes are counted once.
  assert.equal(meter.sample([{ id: 2, openedAt: 10_500, up: 500, down: 0 }], 12_000).up, 0);
});

test('the history keeps the last minute, one sample a second', () => {
  const meter = new TrafficMeter();
  let s;
  for (let i = 0; i < 75; i++) s = meter.sample([{ id: 1, openedAt: 0, up: i * 100, down: 0 }], 1000 * (i + 1));
  assert.equal(s!.history.length, 60);
  assert.equal(s!.history[0].at, 16_000);
  assert.equal(s!.history[59].up, 100);
  assert.deepEqual(meter.current(), s);
});

test('rates as text', () => {
  assert.equal(formatRate(0), '0 B/s');
  assert.equal(formatRate(980.4), '980 B/s');
  assert.equal(formatRate(2.5 * 1024), '2.5 KiB/s');
  assert.equal(formatRate(12.5 * 1024), '13 KiB/s');
  assert.equal(formatRate(3.14 * 1024 * 1024), '3.1 MiB/s');
  assert.equal(formatRate(-5), '0 B/s');
});
