/**
 * Running out of file descriptors, said as what it is. Every tunnel holds
 * two in each process (the client's connection and the next hop's), so a
 * process at its limit cannot accept or dial any more; Node reports that as
 * `EMFILE` (the process's limit) or `ENFILE` (the system's), which would
 * otherwise surface as `cannot reach ws://… Local (undefined:undefined)`.
 */
import fs from 'node:fs';

/** Descriptors one tunnel holds in each process it passes (`wssh connect`, `wssh server`). */
export const DESCRIPTORS_PER_TUNNEL = 2;

export function outOfDescriptors(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/** This process's soft limit on open descriptors, when the system tells (Linux: /proc). */
export function descriptorLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

// Read at start: once they have run out, reading /proc takes a descriptor too.
const LIMIT_AT_START = descriptorLimit();

/** One line for the log: what ran out and what to do about it. */
export function descriptorsMessage(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENFILE') return 'the system is out of file descriptors (ENFILE): raise fs.file-max';
  const limit = descriptorLimit() ?? LIMIT_AT_START;
  const tunnels = limit ? ` (about ${Math.floor(limit / DESCRIPTORS_PER_TUNNEL)} tunnels)` : '';
  return (
    `out of file descriptors (EMFILE: the limit is ${limit ?? 'unknown'}${tunnels}, ${DESCRIPTORS_PER_TUNNEL} per tunnel): ` +
    'raise it (ulimit -n, LimitNOFILE= in the systemd unit) or lower the number of tunnels'
  );
}

/**
 * Wraps `log` so that it writes at most one line per `intervalMs`, with the
 * count of the lines it held back: a process out of descriptors fails every
 * accept, and the journal should not fill with the same line.
 */
export function throttledLog(log: (line: string) => void, intervalMs = 1000): (line: string) => void {
  let last = 0;
  let held = 0;
  return (line) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      held++;
      return;
    }
    last = now;
    log(held > 0 ? `${line} (and ${held} more like it)` : line);
    held = 0;
  };
}
