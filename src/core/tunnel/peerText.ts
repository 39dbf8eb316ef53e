/**
 * Text that came from a peer (a server's text frame, close reason or status
 * line, a proxy's status line or challenge, a PAC script's exception, answer
 * or alert, a PAC server's status line, a certificate's names, a SOCKS host
 * name, a request target, an Origin header), made safe to log or show.
 *
 * A hostile peer can otherwise forge log lines (CR, LF), drive the user's
 * terminal (ESC sequences, OSC 52 writes the clipboard), reorder what a reader
 * sees (bidi overrides), or send a megabyte in one line. So: every control
 * character (C0, DEL, C1), line and paragraph separator and bidi control is
 * written as a visible `\xNN` / `\uNNNN` escape, and the result is cut to a
 * few hundred bytes of UTF-8, with "…" where it was cut.
 *
 * `escapeText` is the one escaping function: peer text is escaped where it
 * enters a message (`peerText`, so the window, a notification and the local
 * proxy's answer get it safe too), and every line is escaped again where it
 * leaves for a log or a terminal (`logLineText`), so a text that no one
 * thought of as the network's cannot drive the terminal either. Escaping
 * twice changes nothing: an escape is plain ASCII.
 */

/** How many bytes of peer text are kept by default: enough for any host name or error text. */
export const PEER_TEXT_MAX_BYTES = 300;

// C0 and DEL, C1, ALM, LRM/RLM, LRE..RLO, LS/PS, LRI..PDI, BOM.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// The same without the g flag, whose test() would carry lastIndex from one call to the next.
const ANY_UNSAFE = new RegExp(`${UNSAFE.source}|${LONE_SURROGATE.source}`);

function escape(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every unsafe character escaped and lone surrogates as U+FFFD; not cut. */
export function escapeText(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd').replace(UNSAFE, escape);
}

/** Whether `text` holds a character escapeText would escape (a control, a bidi control, a line separator). */
export function hasUnsafeCharacters(text: string): boolean {
  return ANY_UNSAFE.test(text);
}

/**
 * `text` with its unsafe characters escaped, at most `maxBytes` bytes of
 * UTF-8 (plus the "…" that says it was cut). Accepts a Buffer (decoded as
 * UTF-8, broken sequences shown as U+FFFD).
 */
export function peerText(text: string | Buffer, maxBytes = PEER_TEXT_MAX_BYTES): string {
  // Decode no more than can be kept: a 1 MiB frame costs no 1 MiB string.
  let raw = typeof text === 'string' ? text : text.subarray(0, maxBytes * 4).toString('utf8');
  let cut = typeof text !== 'string' && text.length > maxBytes * 4;
  if (raw.length > maxBytes * 4) {
    raw = raw.slice(0, maxBytes * 4);
    cut = true;
  }
  return cutToBytes(escapeText(raw), maxBytes, cut);
}

/** `line` cut to `maxBytes` bytes of UTF-8 at a character boundary, with "…" when cut. */
export function cutToBytes(line: string, maxBytes: number, alreadyCut = false): string {
  if (!alreadyCut && Buffer.byteLength(line) <= maxBytes) return line;
  let bytes = 0;
  let end = 0;
  for (const ch of line) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > maxBytes) {
      alreadyCut = true;
      break;
    }
    bytes += size;
    end += ch.length;
  }
  return alreadyCut || end < line.length ? `${line.slice(0, end)}…` : line;
}

/** The longest log line written, in bytes; longer ones are cut (peer text is already short, this bounds the rest). */
export const LOG_LINE_MAX_BYTES = 2048;

/**
 * A line as the loggers and the command line write it: one line (no CR/LF
 * inside), no control or bidi character (escaped as in peerText), at most
 * LOG_LINE_MAX_BYTES.
 */
export function logLineText(line: string): string {
  return cutToBytes(escapeText(line), LOG_LINE_MAX_BYTES);
}
