/**
 * The app's recent log lines, for the log view: a bounded ring, so a tray app
 * that runs for weeks keeps its memory flat; and every line also in the log
 * file of the data folder (`logs/wssh.log`, rotated by core/logFile.ts), so
 * the log outlives the process. Nothing that reaches it may hold a secret:
 * endpoints are written by their `display`.
 */
import { EventEmitter } from 'node:events';
import type { LogLevel, LogLine } from '../../shared/ipc';
import { logLineText } from '../../core/tunnel/peerText';

/** How many lines are kept. @default 1000 */
export const DEFAULT_LOG_LIMIT = 1000;

/** The log file's name in the app's logs folder. */
export const APP_LOG_FILE = 'wssh.log';

/** Where the lines are kept beyond the ring: a LogFile. */
export interface LogSink {
  write(text: string): void;
}

/** A line as the log file has it: `2025-01-31T09:15:02.123Z warn  text`. */
export function fileLine(line: LogLine): string {
  return `${new Date(line.at).toISOString()} ${line.level.padEnd(5)} ${line.text}\n`;
}

export class LogBook extends EventEmitter<{ line: [line: LogLine] }> {
  private readonly ring: LogLine[] = [];
  private seq = 0;

  constructor(
    private readonly limit = DEFAULT_LOG_LIMIT,
    private readonly now: () => number = Date.now,
    private readonly file?: LogSink,
  ) {
    super();
  }

  add(level: LogLevel, text: string): LogLine {
    // Bounded and one line: 60 tunnels quoting a hostile server's 1 MiB frame must not be 60 MiB here.
    const line: LogLine = { seq: ++this.seq, at: this.now(), level, text: logLineText(text) };
    this.ring.push(line);
    if (this.ring.length > this.limit) this.ring.splice(0, this.ring.length - this.limit);
    this.file?.write(fileLine(line));
    this.emit('line', line);
    return line;
  }

  lines(): LogLine[] {
    return this.ring.slice();
  }
}
