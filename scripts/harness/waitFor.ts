/**
 * Waiting for something with a deadline (a log line, a state, a file), for
 * the scripts and the tests: polls instead of sleeping a fixed time, so a
 * fast machine goes on at once and a slow one gets the whole deadline.
 */

/** Waits `ms` milliseconds: for a pace (a soak's round, a bench's pause), not for a condition (waitFor is for that). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a truthy value; rejects with `what` (and `detail()`) after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  detail: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await delay(50);
  }
}
