// Every finding of `npm run fuzz`, kept under test/fuzz/cases/TARGET/, is
// replayed against its target's properties: a crash or hang that was fixed
// stays fixed. Each file says what was wrong when it was found; one marked
// `open` (not fixed yet) is listed as skipped, with its reason.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { savedCases } from '../../scripts/fuzz/cases';
import { superviseJob } from '../../scripts/fuzz/supervisor';
import { TARGETS } from '../../scripts/fuzz/targets/index';

test('every target is fuzzed by a test file of its own group', async () => {
  const { default: fs } = await import('node:fs');
  const text = ['parsers', 'sockets', 'sandboxed'].map((f) => fs.readFileSync(`${__dirname}/${f}.test.js`, 'utf8')).join('\n');
  for (const target of TARGETS) assert.ok(text.includes(`'${target.name}'`), `no fixed-seed test runs fuzz target ${target.name}`);
});

for (const target of TARGETS) {
  const all = savedCases(target.name);
  for (const { file, saved } of all.filter((c) => c.saved.open)) {
    test(`fuzz ${target.name}: open finding ${file.slice(file.lastIndexOf('/') + 1)}`, { skip: saved.open }, () => {});
  }
  const cases = all.filter((c) => !c.saved.open);
  if (cases.length === 0) continue;
  test(`fuzz ${target.name}: its ${cases.length} regression case(s) hold`, async () => {
    const outcome = await superviseJob({ mode: 'replay', target: target.name, inputs: cases.map((c) => c.saved.input) });
    const failed = cases[outcome.runs];
    assert.equal(outcome.failure, undefined, `${failed?.file} (found as: ${failed?.saved.problem}) fails again: ${outcome.failure?.message}`);
  });
}
