/**
 * What a fuzz target is: a generator of inputs that knows the structure of
 * what it feeds (valid-looking messages and files, then mutated), and one
 * check that holds every property for one input. The engine (engine.ts)
 * runs it under fast-check, times each case and watches memory; the
 * supervisor (supervisor.ts) runs the engine in a worker it can stop.
 *
 * The properties, for every parser and decoder:
 * - only the parser's own typed error escapes, and it has a message
 *   (`onlyErrors`);
 * - a case returns within the target's time bound (`caseMs`, the engine);
 * - memory stays bounded (the engine's sampling and the worker's heap limit);
 * - where a value can be written and read back, it round-trips (each check).
 */
import type * as fc from 'fast-check';

export interface FuzzTarget<I = unknown, C = unknown> {
  /** A short name: the folder of its regression cases and the `--target` of `npm run fuzz`. */
  name: string;
  /** What it feeds, to what, in a few words. */
  about: string;
  arbitrary: fc.Arbitrary<I>;
  /** Holds every property for `input`; throws (a PropertyBroken, or whatever escaped) when one fails. */
  check(input: I, context: C): void | Promise<void>;
  /** What the checks share (servers on loopback), made once per worker. */
  setup?(): Promise<C>;
  teardown?(context: C): Promise<void>;
  /** Cases of the fixed-seed run in `npm test`. */
  testRuns: number;
  /** The most one case may take, in ms. */
  caseMs: number;
  /** Heap and off-heap MiB the worker may reach over all its cases, when not the engine's MEMORY_LIMIT_MB. */
  memoryLimitMb?: number;
}

/** A property that does not hold, in words. */
export class PropertyBroken extends Error {
  override name = 'PropertyBroken';
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs `fn`; an error it throws must be one of `allowed`, with a message.
 * Returns what `fn` returned, or undefined when it threw an allowed error.
 */
export function onlyErrors<T>(what: string, allowed: ErrorClass[], fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    const broken = escaped(what, allowed, err);
    if (broken) throw broken;
    return undefined;
  }
}

/** The async form of onlyErrors. */
export async function onlyErrorsAsync<T>(what: string, allowed: ErrorClass[], fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const broken = escaped(what, allowed, err);
    if (broken) throw broken;
    return undefined;
  }
}

function escaped(what: string, allowed: ErrorClass[], err: unknown): PropertyBroken | undefined {
  if (err instanceof PropertyBroken) return err;
  if (!allowed.some((type) => err instanceof type)) {
    const name = err instanceof Error ? err.name : typeof err;
    const message = err instanceof Error ? err.message : String(err);
    return Object.assign(new PropertyBroken(`${what} let ${name} escape: ${message}`), { cause: err });
  }
  if (!(err as Error).message.trim()) return new PropertyBroken(`${what} threw ${(err as Error).name} without a message`);
  return undefined;
}

/** Fails unless `ok`. */
export function holds(ok: boolean, message: () => string): void {
  if (!ok) throw new PropertyBroken(message());
}

/** Deep equality of JSON-like values, for round trips. */
export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
