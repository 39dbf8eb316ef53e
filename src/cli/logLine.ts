import { logLineText } from '../core/peerText';

// Lines logged in one turn of the event loop leave in one write. stderr on a
// pipe (journald, a supervisor, a terminal on Linux) is written synchronously,
// one system call a write: in a burst of reconnecting clients the server's two
// lines a tunnel cost about a fifth of the CPU of opening one.
let pending: string[] = [];

/** Writes out the lines not written yet: before a message that must come after them, and at exit. */
export function flushLog(): void {
  if (pending.length === 0) return;
  const text = pending.join('');
  pending = [];
  process.stderr.write(text);
}

let exitHooked = false;

/** A log line on stderr with a timestamp; journald and a terminal both read it. */
export function logLine(line: string): void {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', flushLog);
  }
  if (pending.length === 0) setImmediate(flushLog);
  // One line, bounded, whatever a peer's text inside it did (peerText already cut and escaped it).
  pending.push(`${new Date().toISOString()} ${logLineText(line)}\n`);
}
