/**
 * Slows down guessing: after failed logins under a key (the server uses the
 * client address and the user name), its next attempts
 * wait, the wait doubling with each failure up to a cap. Waits are handed out
 * as consecutive slots, so opening many connections at once does not buy more
 * guesses: an address with failures gets one check per delay, whatever its
 * parallelism. A success clears the address.
 *
 * Memory is bounded: an address is forgotten some time after its last failure,
 * and when the table is full the address that failed least recently goes
 * first. Someone with more addresses than the table holds can push others out,
 * which makes them faster but never lets anyone in.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Where the backoff reads the time and waits. The real one by default; a
 * test hands in its own, so that "waited 300 ms" is a fact it set up rather
 * than a race with a busy machine.
 */
export interface BackoffClock {
  /** The current time, in ms. */
  now(): number;
  /** Resolves after `ms`; rejects with an AbortError when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Date.now() and a timer. */
export const SYSTEM_CLOCK: BackoffClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

export interface FailureBackoffOptions {
  /** The wait after the first failure, in ms; each further failure doubles it. @default 500 */
  baseDelayMs?: number;
  /** The longest wait, in ms. Below the clients' handshake timeout (15 s), so a waiting client hears 401, not a timeout. @default 10000 */
  maxDelayMs?: number;
  /** An address is forgotten this long after its last failure, in ms. @default 600000 (10 min) */
  forgetAfterMs?: number;
  /** The most addresses remembered. @default 10000 */
  maxEntries?: number;
  /** The time and the waits. @default {@link SYSTEM_CLOCK} */
  clock?: BackoffClock;
}

export const BACKOFF_DEFAULTS: Required<FailureBackoffOptions> = {
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  forgetAfterMs: 10 * 60_000,
  maxEntries: 10_000,
  clock: SYSTEM_CLOCK,
};

interface Entry {
  failures: number;
  lastFailureAt: number;
  /** The earliest time the next attempt may be checked. */
  nextAt: number;
}

export class FailureBackoff {
  private readonly options: Required<FailureBackoffOptions>;
  /** In order of last failure, oldest first (an entry is re-inserted on each failure). */
  private readonly entries = new Map<string, Entry>();

  constructor(options: FailureBackoffOptions = {}) {
    this.options = { ...BACKOFF_DEFAULTS, ...options };
  }

  /** How many addresses are remembered. */
  get size(): number {
    return this.entries.size;
  }

  /** The wait after `failures` consecutive failures, in ms. */
  delayAfter(failures: number): number {
    if (failures <= 0) return 0;
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(failures - 1, 30));
  }

  /** Whether an attempt from `address` would wait now (it failed recently and its next turn is ahead). */
  wouldWait(address: string): boolean {
    const entry = this.current(address);
    return entry !== undefined && entry.nextAt > this.options.clock.now();
  }

  /**
   * Resolves when an attempt from `address` may be checked: at once unless it
   * failed recently. Rejects with an AbortError when `signal` aborts first
   * (the client went away). The slot is taken either way.
   */
  async wait(address: string, signal?: AbortSignal): Promise<void> {
    const entry = this.current(address);
    if (!entry) return;
    const now = this.options.clock.now();
    const slot = Math.max(now, entry.nextAt);
    entry.nextAt = slot + this.delayAfter(entry.failures);
    if (slot > now) await this.options.clock.sleep(slot - now, signal);
  }

  /** Records a failed attempt from `address`. */
  failed(address: string): void {
    const now = this.options.clock.now();
    const entry = this.current(address) ?? { failures: 0, lastFailureAt: now, nextAt: now };
    entry.failures++;
    entry.lastFailureAt = now;
    entry.nextAt = Math.max(entry.nextAt, now + this.delayAfter(entry.failures));
    this.entries.delete(address);
    this.entries.set(address, entry);
    if (this.entries.size > this.options.maxEntries) this.evict(now);
  }

  /** Records a success: `address` is no longer slowed. */
  succeeded(address: string): void {
    this.entries.delete(address);
  }

  /** The address's entry, unless it is old enough to forget. */
  private current(address: string): Entry | undefined {
    const entry = this.entries.get(address);
    if (entry && this.forgettable(entry, this.options.clock.now())) {
      this.entries.delete(address);
      return undefined;
    }
    return entry;
  }

  private forgettable(entry: Entry, now: number): boolean {
    return now - entry.lastFailureAt > this.options.forgetAfterMs && entry.nextAt <= now;
  }

  /** Drops forgettable entries, then the oldest ones, until the table fits. */
  private evict(now: number): void {
    for (const [address, entry] of this.entries) {
      if (this.forgettable(entry, now)) this.entries.delete(address);
    }
    for (const address of this.entries.keys()) {
      if (this.entries.size <= this.options.maxEntries) break;
      this.entries.delete(address);
    }
  }
}
