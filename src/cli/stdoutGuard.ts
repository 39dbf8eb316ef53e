/**
 * `wssh client`'s stdout is the SSH connection: ssh reads every byte on it
 * as the server's. Anything else written there (a library's console.log, a
 * PAC script's alert() as pac-resolver has it, a stray debug line) would be
 * taken for SSH bytes, or forge them (`SSH-2.0-…`). So the command takes
 * stdout for the relay alone, before it runs anything else, and from then on
 * `process.stdout` and the console are stand-ins that write a note on
 * stderr, escaped (logLine.ts), instead.
 *
 * A native module writing to descriptor 1 itself is out of reach here.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { stderrNote } from './logLine';

/** What goes on stderr for a write meant for stdout. */
const KEPT_OFF = 'kept off stdout (the SSH connection): ';

/**
 * Hides the real stdout from everything but the caller, and returns how to
 * get it: its getter, called only when the caller opens it (on Windows it may
 * throw for a handle Node cannot use; see openStdio in clientCommand.ts).
 */
export function reserveStdout(): () => Writable {
  const real = Object.getOwnPropertyDescriptor(process, 'stdout');
  const stray = notes(KEPT_OFF);
  Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => stray });
  // The global console caches its streams at first use: a new one, whose
  // stderr is escaped too (console.error's text is a library's, not ours).
  globalThis.console = new Console({ stdout: stray, stderr: notes('') });
  return () => (real?.get ? real.get.call(process) : real?.value) as Writable;
}

/** A stream whose every write is one escaped note on stderr. */
function notes(prefix: string): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      const text = (typeof chunk === 'string' ? chunk : chunk.toString('utf8')).replace(/\r?\n$/, '');
      stderrNote(prefix + text);
      done();
    },
  });
}
