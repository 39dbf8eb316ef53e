/**
 * The app's recent log lines, for the log view: a bounded ring, so a tray app
 * that runs for weeks keeps its memory flat. Nothing that reaches it may hold
 * a secret: endpoints are written by their `display`.
 */
import { EventEmitter } from 'node:events';
import type { LogLevel, LogLine } from '../../shared/ipc';
import { logLineText } from '../../core/tunnel/peerText';

/** How many lines are kept. @default 1000 */
export const DEFAULT_LOG_LIMIT = 1000;

export class LogBook extends EventEmitter<{ line: [line: LogLine] }> {
  private readonly ring: LogLine[] = [];
  private seq = 0;

  constructor(
    private readonly limit = DEFAULT_LOG_LIMIT,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  add(level: LogLevel, text: string): LogLine {
    // Bounded and one line: 60 tunnels quoting a hostile server's 1 MiB frame must not be 60 MiB here.
    const line: LogLine = { seq: ++this.seq, at: this.now(), level, text: logLineText(text) };
    this.ring.push(line);
    if (this.ring.length > this.limit) this.ring.splice(0, this.ring.length - this.limit);
    this.emit('line', line);
    return line;
  }

  lines(): LogLine[] {
    return this.ring.slice();
  }
}
