import { logLineText } from '../core/peerText';

/** A log line on stderr with a timestamp; journald and a terminal both read it. */
export function logLine(line: string): void {
  // One line, bounded, whatever a peer's text inside it did (peerText already cut and escaped it).
  process.stderr.write(`${new Date().toISOString()} ${logLineText(line)}\n`);
}
