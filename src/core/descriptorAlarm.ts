/**
 * Out of file descriptors (EMFILE, ENFILE): one log line per burst and a
 * count, instead of a line per failed connection or none at all.
 *
 * When accept() itself hits the limit, libuv closes the pending connections
 * without telling Node (its "EMFILE trick"), so those drops are invisible;
 * what is visible is a tunnel whose outgoing connect cannot get a descriptor,
 * or an accept error that libuv does pass on. Each is counted here, and the
 * first of a burst (none in the previous `quietMs`) is logged, with how many
 * there were since the last line.
 */
export const DESCRIPTOR_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE']);

export function isDescriptorExhaustion(err: unknown): boolean {
  return DESCRIPTOR_CODES.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

export class DescriptorAlarm {
  /** Every exhaustion seen since start. */
  total = 0;
  private lastAt = -Infinity;
  private sinceLine = 0;

  constructor(
    private readonly log: (line: string) => void,
    /** A burst ends after this long without an exhaustion, in ms. @default 10000 */
    private readonly quietMs = 10_000,
  ) {}

  /** Records one exhaustion (`what` failed: "a connect to db1.lan:22"); logs the first of a burst. */
  note(what: string, code: string): void {
    this.total++;
    this.sinceLine++;
    const now = Date.now();
    const quiet = now - this.lastAt > this.quietMs;
    this.lastAt = now;
    if (!quiet) return;
    const more = this.sinceLine > 1 ? ` (${this.sinceLine - 1} more since the last such line)` : '';
    this.sinceLine = 0;
    this.log(
      `out of file descriptors (${code}): ${what} failed, and connections are being dropped${more}; ` +
        'raise the limit (ulimit -n, or LimitNOFILE= in the systemd unit)',
    );
  }
}
