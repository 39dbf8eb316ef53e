/**
 * `wssh doctor --idle`: how long an idle tunnel lives on this path. Some
 * proxies and firewalls cut a CONNECT tunnel that carried nothing for 60 s
 * or 5 minutes; nginx's proxy_read_timeout does the same. The doctor holds
 * the tunnel it opened, sending nothing (no ping of its own: that is what
 * the keepalive would do), until something closes it or the time is up, and
 * tells who closed it by how: a close frame from the WSSH server (its
 * --idle-timeout, or the SSH server's end) or a connection simply cut
 * (WebSocket 1006: a middlebox).
 */
import type WebSocket from 'ws';
import type { DiagnosisVerdict } from '../../shared/diagnosis';
import { DEFAULT_KEEPALIVE_SEC } from '../../shared/defaults';
import type { DoctorWords, StepWords } from './stepWords';

export interface IdleOptions {
  /** The longest the tunnel is held, in ms. */
  maxMs: number;
  /** Told how long the tunnel has been held so far, every `progressMs`. */
  onProgress?: (heldMs: number, maxMs: number) => void;
  /** @default 30000 */
  progressMs?: number;
}

/** Holds `ws` idle (open, paused after the banner) until it closes or `maxMs` pass; says what that means. */
export function holdIdle(ws: WebSocket, options: IdleOptions, words: DoctorWords): Promise<StepWords & { verdict: DiagnosisVerdict }> {
  const since = performance.now();
  const held = () => Math.round(performance.now() - since);
  let pings = 0;
  return new Promise((resolve) => {
    const progress = setInterval(() => options.onProgress?.(held(), options.maxMs), options.progressMs ?? 30_000);
    const done = (result: StepWords & { verdict: DiagnosisVerdict }) => {
      clearTimeout(deadline);
      clearInterval(progress);
      ws.off('close', onClose);
      ws.off('ping', onPing);
      resolve(result);
    };
    const onPing = () => pings++;
    const onClose = (code: number, reason: Buffer) => done(closed(held(), code, reason.toString('utf8'), words));
    const deadline = setTimeout(() => {
      const seconds = Math.round(held() / 1000);
      const pinged = pings > 0 ? `; the WSSH server pinged ${pings} times meanwhile, which keeps the path busy` : '';
      done({ verdict: 'pass', answer: `still open after ${seconds} s${pinged}` });
    }, options.maxMs);
    ws.on('ping', onPing);
    ws.on('close', onClose);
    // Read on (a close frame must be seen), though nothing but pings is expected.
    ws.resume();
  });
}

function closed(heldMs: number, code: number, reason: string, words: DoctorWords): StepWords & { verdict: DiagnosisVerdict } {
  const seconds = Math.max(1, Math.round(heldMs / 1000));
  const answer = `closed after ${seconds} s (WebSocket ${code}${reason ? ` "${reason.slice(0, 80)}"` : ''})`;
  if (code === 1001 && /idle/i.test(reason)) {
    return {
      verdict: 'warn',
      answer,
      cause: `the WSSH server's --idle-timeout closed the tunnel: no bytes moved for ${seconds} s`,
      fix: "pings do not count there: ask the gateway's admin for a longer --idle-timeout if sessions sit idle that long",
    };
  }
  if (code === 1000) {
    return {
      verdict: 'pass',
      answer,
      cause: `the SSH server ended the connection (it waits only so long for a login: sshd's LoginGraceTime); the path did not cut it in ${seconds} s`,
    };
  }
  const keepalive = Math.max(1, Math.min(DEFAULT_KEEPALIVE_SEC, Math.floor(seconds / 2)));
  return {
    verdict: 'warn',
    answer,
    cause: `something on the path (an HTTP proxy, a firewall, nginx's proxy_read_timeout) cuts a tunnel idle for about ${seconds} s`,
    fix: `keep a keepalive of ${keepalive} s or less (${words.keepalive}): its pings keep the tunnel busy`,
  };
}
