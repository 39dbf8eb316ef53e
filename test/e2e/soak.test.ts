// The soak of scripts/soak.ts (`npm run soak`: 200 tunnels x 8 MiB each way)
// at a size for every CI run: 40 concurrent tunnels x 2 MiB each way through
//
//   client -CONNECT-> wssh connect --ca -wss-> nginx (TLS) -ws-> wssh server -TCP-> echo
//
// every tunnel's echo byte-exact (sha256 of what went out and came back),
// both wssh processes alive, and their descriptors back at the baseline.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatSoak, runSoak } from '../../scripts/soak';
import { requirePrograms } from '../../scripts/harness/programs';

const TUNNELS = 40;
const SIZE = 2 * 1024 * 1024;

test(`soak: ${TUNNELS} concurrent tunnels x 2 MiB each way through nginx with TLS`, async (t) => {
  if (!requirePrograms(t, 'nginx', 'openssl')) return;
  const result = await runSoak({ tunnels: TUNNELS, size: SIZE, log: (line) => t.diagnostic(line) });
  for (const line of formatSoak(result).split('\n')) t.diagnostic(line);
  assert.deepEqual(result.failures, []);
  assert.equal(result.matched, TUNNELS);
  // All of them were open at the same time.
  assert.equal(result.maxConcurrent, TUNNELS);
  assert.ok(result.fds.proxy.peak >= result.fds.proxy.before + TUNNELS, `proxy: ${result.fds.proxy.peak} descriptors at the peak`);
});
