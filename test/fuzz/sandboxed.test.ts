// Fuzzing what runs others' code or reads the app's own files, from a fixed
// seed: PAC scripts that loop, allocate, throw or never settle, and the tray
// app's settings file of every version, damaged (scripts/fuzz/targets).

import { test } from 'node:test';
import { fuzzFixed } from './fixedSeed';

for (const name of ['pac', 'settings-file']) {
  test(`fuzz ${name}: its properties hold on the fixed seed's cases`, () => fuzzFixed(name));
}
