/**
 * `npm run fuzz -- --minutes N`: every fuzz target (scripts/fuzz/targets)
 * in turn, for N minutes in all, in slices of at most a minute, each slice
 * with a fresh random seed; a finding is saved as a regression case
 * (test/fuzz/cases, replayed by the tests) and its target goes on with the
 * next slice. Prints the runs per target and the findings; exits 1 when
 * there were any.
 *
 * Options: --minutes N (5), --target NAME (repeatable; default all),
 * --seed N (the first slice's seed, to replay a run), --engine property
 * (fast-check, the default) or coverage (Jazzer.js, coverage-guided, driving
 * the same generators: scripts/fuzz/coverage.ts; a finding is replayed by
 * the property engine before it is kept, which words it).
 */
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { saveCase } from './fuzz/cases';
import { coverageSlice, prepareJazzer } from './fuzz/coverage';
import { superviseJob, type JobOutcome } from './fuzz/supervisor';
import type { FuzzTarget } from './fuzz/target';
import { TARGETS } from './fuzz/targets/index';

const SLICE_MS = 60_000;

interface Tally {
  runs: number;
  slices: number;
  seconds: number;
  peakMemoryMb: number;
  findings: string[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '5' },
      target: { type: 'string', multiple: true },
      seed: { type: 'string' },
      engine: { type: 'string', default: 'property' },
    },
  });
  if (values.engine !== 'property' && values.engine !== 'coverage') throw new Error(`--engine is property or coverage, not ${values.engine}`);
  if (values.engine === 'coverage') prepareJazzer((line) => process.stdout.write(`${line}\n`));
  const slice = values.engine === 'coverage' ? coverageRun : propertyRun;
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, not ${values.minutes}`);
  const targets = values.target ? TARGETS.filter((t) => values.target!.includes(t.name)) : TARGETS;
  if (targets.length === 0) throw new Error(`no target named ${values.target!.join(', ')}; there are ${TARGETS.map((t) => t.name).join(', ')}`);
  const perTarget = (minutes * 60_000) / targets.length;
  const tallies = new Map(targets.map((t) => [t.name, { runs: 0, slices: 0, seconds: 0, peakMemoryMb: 0, findings: [] } as Tally]));
  let seed = values.seed === undefined ? undefined : Number(values.seed);
  const started = Date.now();
  // Round robin, a slice each, so that a short run still touches every target.
  for (let left = true; left;) {
    left = false;
    for (const target of targets) {
      const tally = tallies.get(target.name)!;
      const remaining = perTarget - tally.seconds * 1000;
      if (remaining < 1000) continue;
      left = true;
      const sliceSeed = seed ?? crypto.randomInt(2 ** 31);
      seed = undefined;
      const outcome = await slice(target, sliceSeed, Math.min(SLICE_MS, remaining));
      tally.runs += outcome.runs;
      tally.slices++;
      tally.seconds += outcome.seconds;
      tally.peakMemoryMb = Math.max(tally.peakMemoryMb, outcome.peakMemoryMb);
      if (outcome.failure) {
        const file = saveCase({
          target: target.name,
          input: outcome.failure.input,
          problem: outcome.failure.message,
          seed: sliceSeed,
          found: new Date().toISOString(),
        });
        tally.findings.push(`${outcome.failure.message.split('\n')[0].slice(0, 200)} (${file})`);
        process.stdout.write(`${target.name}: FOUND ${outcome.failure.message.split('\n')[0].slice(0, 300)}\n  seed ${sliceSeed}, saved as ${file}\n`);
      }
    }
  }
  report(tallies, (Date.now() - started) / 1000);
  return [...tallies.values()].some((t) => t.findings.length > 0) ? 1 : 0;
}

/** A slice of the property engine: fast-check from `seed`, in a supervised worker. */
function propertyRun(target: FuzzTarget, seed: number, ms: number): Promise<JobOutcome> {
  return superviseJob({ mode: 'fuzz', target: target.name, seed, numRuns: 1e9, timeLimitMs: ms });
}

/** A slice of the coverage engine; its first finding, replayed by the property engine for its words. */
async function coverageRun(target: FuzzTarget, seed: number, ms: number): Promise<JobOutcome> {
  const result = await coverageSlice(target, ms / 1000, seed);
  process.stdout.write(`${target.name}: ${result.runs} runs, ${result.coverage} edges covered\n`);
  const found = result.findings[0];
  if (!found) return { runs: result.runs, peakMemoryMb: 0, seconds: result.seconds };
  const replay = await superviseJob({ mode: 'replay', target: target.name, inputs: [found.input] });
  const message = replay.failure?.message ?? `Jazzer.js found it, the property engine's replay did not fail: ${found.output.slice(-600)}`;
  return { runs: result.runs, peakMemoryMb: 0, seconds: result.seconds, failure: { input: found.input, message } };
}

function report(tallies: Map<string, Tally>, seconds: number): void {
  const rows = [...tallies].map(([name, t]) => [
    name,
    String(t.runs),
    (t.runs / Math.max(t.seconds, 0.001)).toFixed(0),
    String(t.slices),
    `${t.peakMemoryMb}`,
    String(t.findings.length),
  ]);
  const header = ['target', 'runs', 'runs/s', 'slices', 'peak MiB', 'findings'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(`\nfuzzed for ${(seconds / 60).toFixed(1)} min\n${line(header)}\n${rows.map(line).join('\n')}\n`);
  const findings = [...tallies].flatMap(([name, t]) => t.findings.map((f) => `  ${name}: ${f}`));
  process.stdout.write(findings.length === 0 ? 'no findings\n' : `findings:\n${findings.join('\n')}\n`);
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`fuzz: ${err.message}\n`);
    process.exitCode = 2;
  },
);
