/**
 * Telling an original wssh server's refusal apart from an open tunnel.
 *
 * This project's server answers a refused upgrade with an HTTP status and
 * marks every upgrade it accepts with the `WSSH-Server` response header. An
 * original wssh server accepts every upgrade, then tries the host and, when
 * that fails, sends a text frame (`Oops:Error: Invalid host` for a host its
 * hosts.yml refuses, `Oops:Error: connect ECONNREFUSED …` for one it cannot
 * reach) and closes, or just closes. Answering PuTTY 200 at the upgrade
 * would make that a "remote side unexpectedly closed" (and `nc -X connect`
 * would wait for ever), so for an unmarked upgrade the dial waits for the
 * first frame: an SSH server speaks first, so a binary frame means the tunnel
 * is real; a text frame or a close is the refusal.
 */
import type WebSocket from 'ws';
import type { RefusalCode } from '../tunnel/refusals';
import { peerText } from '../tunnel/peerText';

/** The response header this project's server adds to every accepted upgrade. */
export const SERVER_MARK_HEADER = 'WSSH-Server';
/**
 * Its value: the generation of the wire contract, 2 meaning "a refusal is an
 * HTTP status on the upgrade, never a frame after it".
 */
export const SERVER_MARK_VALUE = '2';

/**
 * How long an unmarked tunnel may stay silent before it counts as open: an
 * SSH server sends its banner at once, so a few seconds is plenty, and a
 * target that is not SSH (or is very slow) still gets through after it.
 */
export const LEGACY_HOLD_MS = 4000;

/** Longest old-server text that goes into a refusal's reason. */
const MAX_TEXT = 200;

/** What the unmarked server did first. */
export type LegacyVerdict =
  | { kind: 'open' }
  /** `denied` (403) or `unreachable` (502), as this project's server would have answered. */
  | { kind: 'refused'; refusal: Extract<RefusalCode, 'denied' | 'unreachable'>; reason: string };

/**
 * Waits for the first frame or close of `ws` (open, paused, as dial() holds
 * it), at most `holdMs`. The frames seen meanwhile are not lost: they are
 * given again, in order, when the caller resumes `ws` (once its own
 * listeners are on, which is dial()'s contract anyway).
 */
export function awaitLegacyVerdict(ws: WebSocket, holdMs = LEGACY_HOLD_MS): Promise<LegacyVerdict> {
  const held: Array<{ data: Buffer; isBinary: boolean }> = [];
  return new Promise((resolve) => {
    let settled = false;
    const settle = (verdict: LegacyVerdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (verdict.kind === 'open') {
        // Nothing more is read until the caller resumes.
        ws.pause();
        replayOnResume(ws, held, stopHolding);
      } else {
        stopHolding();
      }
      resolve(verdict);
    };
    const onMessage = (data: Buffer, isBinary: boolean) => {
      held.push({ data, isBinary });
      if (isBinary) settle({ kind: 'open' });
      else settle(textRefusal(data.toString('utf8')));
    };
    const onClose = (code: number, reason: Buffer) => {
      settle({
        kind: 'refused',
        refusal: 'unreachable',
        reason:
          `the server closed the tunnel before the SSH server spoke (WebSocket ${code}${reason.length ? ' ' + sanitise(reason.toString('utf8')) : ''}): ` +
          'an original wssh server does this for a host it refuses or cannot reach',
      });
    };
    const stopHolding = () => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
    };
    const timer = setTimeout(() => settle({ kind: 'open' }), holdMs);
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.resume();
  });
}

/**
 * An old server's text as a refusal: its hosts.yml refusal ("Invalid host")
 * is 403, anything else (a connect error) is 502, as this project's server
 * would have answered.
 */
export function textRefusal(text: string): LegacyVerdict {
  const said = sanitise(text);
  const denied = /invalid host|denied|forbidden|not allowed/i.test(said);
  return { kind: 'refused', refusal: denied ? 'denied' : 'unreachable', reason: `the server says: ${said}` };
}

/**
 * One line, bounded: the text goes into a status body and a log. An old
 * server's error is an exception's text over lines: runs of controls read as
 * a space; what else peerText escapes (bidi controls) it escapes.
 */
function sanitise(text: string): string {
  return peerText(text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim(), MAX_TEXT);
}

/**
 * Makes the first `resume()` of `ws` emit the held frames (and a close that
 * came meanwhile) before reading goes on, so a relay set up after the
 * verdict sees every byte in order. A listener that pauses while they are
 * given (its stream is full) keeps `ws` paused: it resumes it on drain.
 */
function replayOnResume(ws: WebSocket, held: Array<{ data: Buffer; isBinary: boolean }>, stopHolding: () => void): void {
  // Frames the receiver had already parsed when the verdict paused it still come: hold them too.
  const onMessage = (data: Buffer, isBinary: boolean) => held.push({ data, isBinary });
  let lateClose: { code: number; reason: Buffer } | undefined;
  const onClose = (code: number, reason: Buffer) => (lateClose = { code, reason });
  stopHolding();
  ws.on('message', onMessage);
  ws.on('close', onClose);
  const resume = ws.resume;
  const pause = ws.pause;
  // An own property over the prototype's method, deleted at its first call.
  ws.resume = function replay() {
    delete (ws as Partial<WebSocket>).resume;
    // On the next tick: the caller that resumes may add listeners right
    // after (a relay's 'text' listener goes on once the relay is built).
    process.nextTick(() => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
      let pausedByListener = false;
      ws.pause = function () {
        pausedByListener = true;
        pause.call(ws);
      };
      for (const frame of held.splice(0)) ws.emit('message', frame.data, frame.isBinary);
      delete (ws as Partial<WebSocket>).pause;
      if (lateClose) ws.emit('close', lateClose.code, lateClose.reason);
      else if (!pausedByListener) resume.call(ws);
    });
  };
}
