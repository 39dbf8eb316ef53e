// Fuzzing the parsers that need no socket (scripts/fuzz/targets), from a
// fixed seed: endpoint URIs and targets, the resume headers and acks, SOCKS
// messages, proxy challenges and NTLM messages, `reg query` output, endpoint
// profiles and links, hosts.yml and users.yml. Each holds its properties:
// only its own typed error escapes, with a message; every case within its
// time bound and the worker's memory bound; values written read back the same.

import { test } from 'node:test';
import { fuzzFixed } from './fixedSeed';

for (const name of ['endpoint', 'resume', 'socks', 'proxy-auth', 'reg-query', 'profile', 'server-files']) {
  test(`fuzz ${name}: its properties hold on the fixed seed's cases`, () => fuzzFixed(name));
}
