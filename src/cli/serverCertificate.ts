/**
 * The certificate a TLS server presents, fetched once for `wssh profile
 * create --pin-from-server`. Trust on first use is the admin's decision: the
 * certificate is shown (subject, issuer, dates, fingerprint) so that they can
 * check it against what they installed, and whether the usual checks (issuer
 * chain, name) would accept it too.
 */
import tls from 'node:tls';
import net from 'node:net';
import crypto from 'node:crypto';
import { CertificateSummary, summarizeX509 } from '../core/dial/profile';
import { peerText } from '../core/tunnel/peerText';

export interface PresentedCertificate {
  summary: CertificateSummary;
  /** Whether Node's default CAs (plus `ca`) and the name check accept it. */
  trusted: boolean;
  /** Why not, when not trusted (an OpenSSL code or a name mismatch). */
  untrustedReason?: string;
}

/** Connects to host:port, completes the TLS handshake and reads the leaf certificate; sends nothing else. */
export function fetchServerCertificate(
  host: string,
  port: number,
  options: { servername?: string; ca?: string[]; timeoutMs?: number } = {},
): Promise<PresentedCertificate> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const servername = options.servername ?? (net.isIP(host) === 0 ? host : undefined);
  const expectedName = options.servername ?? host;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername,
      // Accepted whatever it is: the point is to see it. Nothing is sent on it.
      rejectUnauthorized: false,
      ca: options.ca && options.ca.length > 0 ? [...tls.rootCertificates, ...options.ca] : undefined,
      ALPNProtocols: ['http/1.1'],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS handshake with ${host}:${port} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const peer = socket.getPeerCertificate();
      socket.destroy();
      if (!peer || !peer.raw) {
        reject(new Error(`${host}:${port} presented no certificate`));
        return;
      }
      const x509 = new crypto.X509Certificate(peer.raw);
      let untrustedReason = socket.authorized ? undefined : String(socket.authorizationError);
      // The name check's message lists the certificate's names: the server's text.
      if (untrustedReason === undefined) untrustedReason = tls.checkServerIdentity(expectedName, peer)?.message;
      if (untrustedReason !== undefined) untrustedReason = peerText(untrustedReason);
      resolve({ summary: summarizeX509(x509), trusted: untrustedReason === undefined, untrustedReason });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const what = err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'no such host' : err.message;
      reject(new Error(`cannot fetch the certificate of ${host}:${port}: ${what}`));
    });
  });
}
