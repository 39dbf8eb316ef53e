// Fuzzing over real sockets on loopback, from a fixed seed: what a client
// sends to the local proxy (HTTP heads, SOCKS handshakes, pipelined bytes),
// what an upstream HTTP proxy answers to CONNECT, and what a WSSH endpoint
// answers to the upgrade (scripts/fuzz/targets). Each answers or fails with
// its own error within its bound, and nothing else escapes.

import { test } from 'node:test';
import { fuzzFixed } from './fixedSeed';

for (const name of ['local-proxy', 'upstream-answer', 'upgrade-answer']) {
  test(`fuzz ${name}: its properties hold on the fixed seed's cases`, () => fuzzFixed(name));
}
