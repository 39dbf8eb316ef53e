/**
 * The SSH server's identification line (`SSH-2.0-…`, RFC 4253 §4.2) through
 * an open tunnel: the server speaks first in SSH, so the banner proves the
 * whole path works without sending a byte. The tray app's "Test" and the
 * doctor's target step read it the same way.
 */
import type WebSocket from 'ws';
import { peerText } from '../tunnel/peerText';

/** RFC 4253 limits the identification line to 255 bytes; lines before it are allowed. */
const MAX_PRELUDE_BYTES = 8192;

export type BannerOutcome =
  | { ok: true; banner: string }
  /** `closed`: the tunnel closed first (its WebSocket code); `text`: the server sent a text frame; `not-ssh`: bytes, no banner; `silent`: nothing in time. */
  | { ok: false; kind: 'closed' | 'text' | 'not-ssh' | 'silent' | 'error'; reason: string; code?: number };

/**
 * Reads the banner from `ws` (open and paused, as the dialer gives it) for at
 * most `timeoutMs`; `target` names the host in the reasons. The WebSocket is
 * left open, its listeners removed, and paused again once the banner came:
 * the caller closes it (or holds it, for the idle probe).
 */
export function awaitBanner(ws: WebSocket, target: string, timeoutMs: number): Promise<BannerOutcome> {
  return new Promise<BannerOutcome>((resolve) => {
    let received = Buffer.alloc(0);
    const finish = (outcome: BannerOutcome) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      ws.off('error', onError);
      if (outcome.ok) ws.pause();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ ok: false, kind: 'silent', reason: `the tunnel opened, but no SSH banner came within ${timeoutMs} ms: is ${target} an SSH server?` }),
      timeoutMs,
    );
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        finish({ ok: false, kind: 'text', reason: `the WSSH server said: ${peerText(data.toString('utf8'), 200)}` });
        return;
      }
      received = Buffer.concat([received, data]);
      const banner = completeLines(received).find((line) => line.startsWith('SSH-'));
      if (banner !== undefined) return finish({ ok: true, banner: peerText(banner, 255) });
      if (received.length > MAX_PRELUDE_BYTES) {
        finish({ ok: false, kind: 'not-ssh', reason: `${target} answered, but not with an SSH banner: "${printable(received.subarray(0, 60))}"` });
      }
    };
    const onClose = (code: number) => {
      const got = received.length > 0 ? `; it sent "${printable(received.subarray(0, 60))}"` : '';
      finish({ ok: false, kind: 'closed', code, reason: `the tunnel closed (WebSocket ${code}) before an SSH banner came${got}` });
    };
    const onError = (err: Error) => finish({ ok: false, kind: 'error', reason: `the tunnel failed: ${err.message}` });
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', onError);
    ws.resume();
  });
}

function completeLines(buffer: Buffer): string[] {
  const text = buffer.toString('latin1');
  const end = text.lastIndexOf('\n');
  if (end < 0) return [];
  return text
    .slice(0, end)
    .split('\n')
    .map((l) => l.replace(/\r$/, ''));
}

function printable(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
}
