/**
 * The fixed-seed part of the fuzzing that `npm test` runs: a target's
 * `testRuns` cases from one seed, in a supervised worker (a hang or a heap
 * blow-up fails the test instead of the run). A failure says how to replay
 * it and to keep it as a regression case.
 */
import assert from 'node:assert/strict';
import { superviseJob } from '../../scripts/fuzz/supervisor';
import { TARGETS } from '../../scripts/fuzz/targets/index';

/** One seed for every target: the same cases on every machine and every run. */
export const FIXED_SEED = 23;

export async function fuzzFixed(name: string): Promise<void> {
  const target = TARGETS.find((t) => t.name === name);
  assert.ok(target, `no fuzz target named ${name}`);
  const outcome = await superviseJob({ mode: 'fuzz', target: name, seed: FIXED_SEED, numRuns: target.testRuns });
  assert.equal(
    outcome.failure,
    undefined,
    `fuzz target ${name}, seed ${FIXED_SEED}: ${outcome.failure?.message}\ninput: ${outcome.failure?.input.slice(0, 2000)}\n` +
      `(npm run fuzz -- --target ${name} --seed ${FIXED_SEED} --minutes 1 replays it and keeps it as a regression case)`,
  );
  assert.equal(outcome.runs, target.testRuns, `fuzz target ${name} ran ${outcome.runs} of ${target.testRuns} cases`);
}
