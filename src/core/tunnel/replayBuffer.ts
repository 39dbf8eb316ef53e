/**
 * What one direction of a resumable tunnel sent and the peer has not yet
 * acknowledged: the bytes a resume may have to send again.
 *
 * Offsets are absolute, counted from the tunnel's first byte, as the wire
 * counts them (resumeProtocol.ts): `acked` is the offset of the first byte
 * held, `sent` the offset after the last. The chunks are kept as they were
 * given, not copied (a stream hands over each chunk for good), so keeping
 * them costs no more than the bytes themselves, and those bytes are counted
 * in the process's buffer budget, the same one the relays count theirs in:
 * a thousand parked tunnels pause the largest readers instead of growing
 * the heap without bound.
 */
import { ResumeProtocolError } from './resumeProtocol';
import type { BudgetAccount, BufferBudget } from './bufferBudget';

export class ReplayBuffer {
  private readonly chunks: Buffer[] = [];
  /** Index in `chunks` of the first chunk still held (dropped ones are shifted out in batches). */
  private head = 0;
  /** Bytes of chunks[head] already acknowledged. */
  private headCut = 0;
  private ackedTo = 0;
  private sentTo = 0;
  private readonly account: BudgetAccount;
  /** The most bytes held at once, for tests and the bench. */
  peak = 0;

  /**
   * @param window bytes held at which `full` says the reader should pause.
   * @param budget the process's budget the held bytes count in.
   */
  constructor(
    readonly window: number,
    budget: BufferBudget,
  ) {
    if (!(window > 0)) throw new RangeError(`a replay window must be positive, not ${window}`);
    this.account = budget.open();
  }

  /** The offset of the first byte held: everything before it is acknowledged. */
  get acked(): number {
    return this.ackedTo;
  }

  /** The offset after the last byte given. */
  get sent(): number {
    return this.sentTo;
  }

  /** Bytes held: sent and not acknowledged. */
  get size(): number {
    return this.sentTo - this.ackedTo;
  }

  /**
   * Whether the reader that fills this buffer should pause: it holds its
   * window, or the process's budget is spent and it holds more than its
   * share (BudgetAccount.full).
   */
  get full(): boolean {
    return this.account.full(this.window);
  }

  /** Keeps `chunk` (not copied: the caller must not change it). */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.sentTo += chunk.length;
    this.account.add(chunk.length);
    if (this.size > this.peak) this.peak = this.size;
  }

  /**
   * The peer holds every byte before offset `n`: drops them. Throws
   * ResumeProtocolError for an `n` beyond what was sent or below what was
   * already acknowledged (acknowledgements are totals and never go back).
   */
  ack(n: number): void {
    this.check('ack', n, `acknowledges`);
    let drop = n - this.ackedTo;
    this.ackedTo = n;
    this.account.remove(drop);
    while (drop > 0) {
      const left = this.chunks[this.head].length - this.headCut;
      if (drop < left) {
        this.headCut += drop;
        break;
      }
      drop -= left;
      this.chunks[this.head] = EMPTY;
      this.head++;
      this.headCut = 0;
    }
    // Shift the dropped slots out once they are half the array: O(1) per chunk overall.
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
  }

  /**
   * The chunks to send again from offset `n` (the first one sliced, a view,
   * not a copy). Throws ResumeProtocolError for an `n` outside
   * [acked, sent]: below, those bytes are gone; beyond, they were never sent.
   */
  from(n: number): Buffer[] {
    this.check('replay', n, 'asks for a replay from');
    const out: Buffer[] = [];
    let skip = n - this.ackedTo + this.headCut;
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i];
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      out.push(skip > 0 ? chunk.subarray(skip) : chunk);
      skip = 0;
    }
    return out;
  }

  /** Gives the held bytes back to the budget and forgets them (the session is over). */
  close(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.headCut = 0;
    this.ackedTo = this.sentTo;
    this.account.close();
  }

  private check(field: string, n: number, verb: string): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new ResumeProtocolError(field, `the peer ${verb} byte ${n}, which is not a count`);
    if (n > this.sentTo) throw new ResumeProtocolError(field, `the peer ${verb} byte ${n}, but only ${this.sentTo} were sent`);
    if (n < this.ackedTo) throw new ResumeProtocolError(field, `the peer ${verb} byte ${n}, but bytes up to ${this.ackedTo} were acknowledged and dropped`);
  }
}

const EMPTY = Buffer.alloc(0);
