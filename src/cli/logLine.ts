/** A log line on stderr with a timestamp; journald and a terminal both read it. */
export function logLine(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}
