/**
 * Runs one target under fast-check, in the worker the supervisor started:
 * a seeded run (fixed in `npm test`, random in `npm run fuzz`) or a replay
 * of saved cases. Every case is timed against the target's bound, memory is
 * sampled for its peak, and the input about to run is copied where the
 * supervisor can read it (a SharedArrayBuffer), so that a case that hangs
 * the thread or kills it is still known after the worker is gone.
 */
import * as fc from 'fast-check';
import { encodeInput, decodeInput } from './codec';
import { PropertyBroken, type FuzzTarget } from './target';

export type EngineJob =
  { mode: 'fuzz'; target: string; seed: number; numRuns: number; timeLimitMs?: number } | { mode: 'replay'; target: string; inputs: string[] };

export interface EngineFailure {
  /** The input, encoded (codec.ts); shrunk by fast-check where it could. */
  input: string;
  message: string;
}

export interface EngineResult {
  /** Cases run (for a failed run, those before the failure). */
  runs: number;
  failure?: EngineFailure;
  /** The most heap and off-heap memory seen, in MiB. */
  peakMemoryMb: number;
}

/** Heap and off-heap bytes a worker may hold before a case counts as unbounded. */
export const MEMORY_LIMIT_MB = 384;
const MiB = 1024 * 1024;

/** Where the input about to run is copied: a length (-1: too large to copy), then its UTF-8. */
export class InputSlot {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 1);
    this.bytes = new Uint8Array(buffer, 4);
  }
  static create(size = 4 * MiB): InputSlot {
    return new InputSlot(new SharedArrayBuffer(size));
  }
  write(encoded: string): void {
    const { written, read } = new TextEncoder().encodeInto(encoded, this.bytes);
    Atomics.store(this.header, 0, read === encoded.length ? written : -1);
  }
  /** The last input written, or undefined (none yet, or too large). */
  read(): string | undefined {
    const length = Atomics.load(this.header, 0);
    if (length <= 0) return undefined;
    return new TextDecoder().decode(this.bytes.slice(0, length));
  }
}

/** Runs `job` on `target`; the check's own failures come back in the result, never as a throw. */
export async function runJob<I, C>(target: FuzzTarget<I, C>, job: EngineJob, slot: InputSlot): Promise<EngineResult> {
  const context = (await target.setup?.()) as C;
  let peak = 0;
  let cases = 0;
  const one = async (input: I): Promise<void> => {
    slot.write(encodeInput(input));
    await timedCheck(target, input, context);
    if (++cases % 32 === 0) {
      const m = process.memoryUsage();
      const used = (m.heapUsed + m.external) / MiB;
      peak = Math.max(peak, used);
      const limit = target.memoryLimitMb ?? MEMORY_LIMIT_MB;
      if (used > limit) throw new PropertyBroken(`memory grew to ${Math.round(used)} MiB (limit ${limit})`);
    }
  };
  try {
    if (job.mode === 'replay') return await replay(job.inputs, one, () => peak);
    const details = await fc.check(
      fc.asyncProperty(target.arbitrary, (input) => one(input)),
      { seed: job.seed, numRuns: job.numRuns, interruptAfterTimeLimit: job.timeLimitMs, markInterruptAsFailure: false },
    );
    const failure = details.failed ? { input: encodeInput(details.counterexample![0]), message: failureMessage(details.errorInstance) } : undefined;
    return { runs: details.numRuns, failure, peakMemoryMb: Math.round(peak) };
  } finally {
    await target.teardown?.(context);
  }
}

async function replay<I>(inputs: string[], one: (input: I) => Promise<void>, peak: () => number): Promise<EngineResult> {
  let runs = 0;
  for (const encoded of inputs) {
    try {
      await one(decodeInput(encoded) as I);
    } catch (err) {
      return { runs, failure: { input: encoded, message: failureMessage(err) }, peakMemoryMb: Math.round(peak()) };
    }
    runs++;
  }
  return { runs, peakMemoryMb: Math.round(peak()) };
}

/** One check within the target's bound: a synchronous one is timed, an asynchronous one raced against it. */
async function timedCheck<I, C>(target: FuzzTarget<I, C>, input: I, context: C): Promise<void> {
  const started = performance.now();
  const result = target.check(input, context);
  if (result instanceof Promise) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PropertyBroken(`did not return within ${target.caseMs} ms`)), target.caseMs);
    });
    try {
      await Promise.race([result, late]);
    } finally {
      clearTimeout(timer);
    }
    return;
  }
  const took = performance.now() - started;
  if (took > target.caseMs) throw new PropertyBroken(`took ${Math.round(took)} ms (bound ${target.caseMs} ms)`);
}

function failureMessage(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
