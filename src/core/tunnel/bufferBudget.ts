/**
 * One memory budget for all the tunnels of a process.
 *
 * Each tunnel already bounds itself: reading pauses while its own buffers
 * hold a high-water mark. That is not enough with thousands of tunnels: 5000
 * tunnels that each hold their high-water mark are gigabytes. So every byte a
 * relay has handed on but that has not reached the kernel yet (queued in a
 * WebSocket's send buffer or a socket's write buffer, including frames read
 * from the WebSocket but not yet written to the TCP side) is counted here,
 * across the process; once the total reaches the limit, reading pauses in the
 * tunnels that hold more than their share (limit / directions open), which
 * are where the most is buffered, and each resumes as its own bytes drain.
 * A tunnel below its share keeps moving, so stalled tunnels that hold the
 * budget cannot stop the others.
 *
 * The kernel's socket buffers are not counted: they are bounded by the
 * kernel, outside the process's heap.
 */

const MiB = 1024 * 1024;

/** The default limit of bytes buffered across all tunnels of a process (`--max-buffered`). */
export const DEFAULT_MAX_BUFFERED = 256 * MiB;

/**
 * What a tunnel may always buffer per direction, whatever the budget: one
 * read's worth, so that a tunnel below it is never paused by others.
 */
const MIN_SHARE = 16 * 1024;

export class BufferBudget {
  private total = 0;
  private accounts = 0;
  /** How many times a reader paused because the budget was spent (not at its own high-water mark). */
  pausedByBudget = 0;

  /** @param limit bytes buffered across all tunnels before the largest buffers pause their readers. */
  constructor(readonly limit: number = DEFAULT_MAX_BUFFERED) {
    if (!(limit > 0)) throw new RangeError(`a buffer budget must be positive, not ${limit}`);
  }

  /** Bytes buffered now across all open accounts. */
  get buffered(): number {
    return this.total;
  }

  /** Accounts open now (two per tunnel: one per direction). */
  get size(): number {
    return this.accounts;
  }

  /** What one account may hold while the budget is spent. */
  share(): number {
    return Math.max(MIN_SHARE, this.limit / Math.max(1, this.accounts));
  }

  /** Opens the account of one direction of one tunnel. */
  open(): BudgetAccount {
    this.accounts++;
    return new BudgetAccount(this);
  }

  /** @internal */
  change(delta: number): void {
    this.total += delta;
  }

  /** @internal */
  closed(): void {
    this.accounts--;
  }
}

/** The bytes one direction of one tunnel holds, counted in its process's budget. */
export class BudgetAccount {
  buffered = 0;
  private isClosed = false;

  constructor(private readonly budget: BufferBudget) {}

  add(bytes: number): void {
    if (this.isClosed) return;
    this.buffered += bytes;
    this.budget.change(bytes);
  }

  remove(bytes: number): void {
    if (this.isClosed) return;
    const n = Math.min(bytes, this.buffered);
    this.buffered -= n;
    this.budget.change(-n);
  }

  /**
   * Whether the reader that fills this account should pause: the account is
   * at the tunnel's own high-water mark, or the process's budget is spent and
   * this account holds more than its share.
   */
  full(highWaterMark: number): boolean {
    if (this.buffered >= highWaterMark) return true;
    if (this.budget.buffered < this.budget.limit || this.buffered < this.budget.share()) return false;
    this.budget.pausedByBudget++;
    return true;
  }

  /** Gives back what is still counted (a closed tunnel's buffers are freed with it). */
  close(): void {
    if (this.isClosed) return;
    this.budget.change(-this.buffered);
    this.buffered = 0;
    this.isClosed = true;
    this.budget.closed();
  }
}

/** The budget of relays given none: one per process, at the default limit. */
export const processBudget = new BufferBudget();
