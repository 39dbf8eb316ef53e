import { logLineText } from '../core/tunnel/peerText';

// Lines logged in one turn of the event loop leave in one write: stderr is
// corked at the first and uncorked once the turn's I/O callbacks have run.
// stderr on a pipe (journald, a supervisor, a terminal on Linux) is written
// synchronously, one system call a write: in a burst of reconnecting clients
// the server's two lines a tunnel cost about a fifth of the CPU of opening
// one. Corking the stream itself, rather than keeping lines aside, keeps
// them in order with anything else written to stderr meanwhile.
let corked = false;

function uncork(): void {
  if (!corked) return;
  corked = false;
  process.stderr.uncork();
}

let exitHooked = false;

/** A log line on stderr with a timestamp; journald and a terminal both read it. */
export function logLine(line: string): void {
  if (!corked) {
    corked = true;
    process.stderr.cork();
    setImmediate(uncork);
    if (!exitHooked) {
      exitHooked = true;
      // process.exit() skips the immediate; stderr's writes are synchronous, so this still gets them out.
      process.on('exit', uncork);
    }
  }
  // One line, bounded, whatever a peer's text inside it did (peerText already cut and escaped it).
  process.stderr.write(`${new Date().toISOString()} ${logLineText(line)}\n`);
}

/**
 * A `wssh: …` line on stderr without a time stamp: what `wssh client` says
 * (ssh shows it to the user as it is) and a command's last error. Escaped
 * and bounded as a log line, whatever text it carries.
 */
export function stderrNote(line: string): void {
  process.stderr.write(`wssh: ${logLineText(line)}\n`);
}
