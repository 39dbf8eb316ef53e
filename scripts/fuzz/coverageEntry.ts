/**
 * The fuzz entry Jazzer.js runs (coverage.ts starts it): libFuzzer's bytes
 * drive the target's own structure-aware generator, as its random numbers
 * (four bytes a number, zeros once they run out), so a mutation of the
 * bytes is a mutation of the choices the generator made, and the coverage
 * libFuzzer keeps steers them. The target is named by WSSH_FUZZ_TARGET.
 */
import * as fc from 'fast-check';
import { PropertyBroken, type FuzzTarget } from './target';
import { TARGETS } from './targets/index';

/** A random generator that reads its numbers from `data` (pure-rand's interface, as fc.Random wants it). */
class BytesGenerator {
  constructor(
    private readonly data: Uint8Array,
    private at = 0,
  ) {}
  unsafeNext(): number {
    let n = 0;
    for (let i = 0; i < 4; i++) n = (n << 8) | (this.data[this.at++] ?? 0);
    return n | 0;
  }
  next(): [number, BytesGenerator] {
    const copy = this.clone();
    return [copy.unsafeNext(), copy];
  }
  clone(): BytesGenerator {
    return new BytesGenerator(this.data, this.at);
  }
  getState(): readonly number[] {
    return [this.at];
  }
}

/** The input the target's generator makes from `data`. */
export function inputFromBytes<I>(target: FuzzTarget<I>, data: Uint8Array): I {
  return target.arbitrary.generate(new fc.Random(new BytesGenerator(data) as never), undefined).value;
}

const name = process.env.WSSH_FUZZ_TARGET ?? '';
const target = TARGETS.find((t) => t.name === name);
let context: Promise<unknown> | undefined;

/** Jazzer's entry: one case; a failure is thrown, which Jazzer keeps as a finding. */
export async function fuzz(data: Buffer): Promise<void> {
  if (!target) throw new Error(`WSSH_FUZZ_TARGET names no fuzz target: ${JSON.stringify(name)}`);
  context ??= Promise.resolve(target.setup?.());
  const input = inputFromBytes(target, data);
  const started = performance.now();
  await target.check(input, await context);
  const took = performance.now() - started;
  if (took > target.caseMs) throw new PropertyBroken(`took ${Math.round(took)} ms (bound ${target.caseMs} ms)`);
}
