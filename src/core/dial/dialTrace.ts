/**
 * What a dial saw, step by step: the hops below the WebSocket
 * (upstream/hopTrace.ts: the name resolved, the TCP connection, the HTTP
 * proxy's answers and sign-in), then the TLS handshake with the chain the
 * server presented, and the answer to the upgrade. `DialOptions.trace`
 * hears them as they happen; `wssh doctor` and the tray app's Diagnose
 * (core/doctor/) turn them into the steps a person reads.
 *
 * Listening changes nothing of the dial. No event holds a secret.
 */
import type tls from 'node:tls';
import type { HopEvent } from '../upstream/hopTrace';

export type DialEvent =
  | HopEvent
  /**
   * The TLS handshake is over, before any check of this program's: the
   * protocol, the cipher, and the chain as the server sent it (DER, the
   * endpoint's own certificate first). Sent also when the chain is then
   * refused, so that what was refused can be shown.
   */
  | { kind: 'tls'; protocol: string; cipher: string; chain: Buffer[] }
  /** The certificate passed every check (trust.ts): the upgrade request goes out now. */
  | { kind: 'tls-verified' }
  /** The server accepted the upgrade; `mark`: its WSSH-Server header (none: an original server). */
  | { kind: 'upgrade'; status: number; mark?: string }
  /**
   * The server (or something in front of it) answered the upgrade with
   * another status: its refusal code from X-WSSH-Refusal, whether it asked
   * for credentials (WWW-Authenticate), and the first line of its body.
   */
  | { kind: 'refused'; status: number; statusText: string; refusal?: string; authenticate?: string; reason: string };

export type DialTrace = (event: DialEvent) => void;

/**
 * Tells `trace` the handshake's outcome and chain, once the handshake is
 * over. The listener goes before Node's own: Node destroys a socket whose
 * chain it refuses in that same event, and its certificate is gone after.
 */
export function traceTls(socket: tls.TLSSocket, trace: DialTrace | undefined): void {
  if (!trace) return;
  // 'secure' is the TLSSocket's event of a finished handshake; 'secureConnect' comes only for a chain Node accepted.
  socket.prependOnceListener('secure', () => {
    const chain: Buffer[] = [];
    let cert = socket.getPeerCertificate(true);
    while (cert && cert.raw && chain.length < 10) {
      chain.push(cert.raw);
      const next = cert.issuerCertificate;
      if (!next || next === cert || next.raw?.equals(cert.raw)) break;
      cert = next;
    }
    trace({ kind: 'tls', protocol: socket.getProtocol() ?? '', cipher: socket.getCipher()?.name ?? '', chain });
  });
}
