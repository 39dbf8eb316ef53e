/**
 * The client certificate a dial presents to a gateway that asks for one
 * (nginx `ssl_verify_client on`), and what it means when the gateway refuses.
 *
 * Given as PEM (a certificate and its key) or as PKCS#12 (`.pfx`/`.p12`, with
 * a passphrase). It is checked once when it is given: a wrong passphrase or a
 * key that does not belong to the certificate is said at start, not as a
 * failed tunnel.
 *
 * A gateway that wants a certificate the client lacks, or does not accept
 * the one it got, says so in one of two ways, both mapped here:
 * - a TLS alert, from servers that end the handshake (Node, Go, OpenSSL's
 *   `-Verify`): `certificate_required` (TLS 1.3), `bad_certificate`,
 *   `unknown_ca`, `certificate_expired`, `access_denied`;
 * - nginx finishes the handshake and answers the request with 400 and the
 *   page "No required SSL certificate was sent" or "The SSL certificate
 *   error".
 *
 * The messages say what is wrong; the remedy (which flag, which field of
 * the endpoint editor) is the front end's, from the hint each error carries
 * (configErrors.ts).
 */
import tls from 'node:tls';
import { ConfigError, type ConfigHint, type ConfigProblem } from '../../tunnel/configErrors';

export interface ClientCertificate {
  /** PEM certificate (chain), with `key`. */
  cert?: string | Buffer;
  /** PEM private key, with `cert`. */
  key?: string | Buffer;
  /** PKCS#12 bundle, instead of `cert` and `key`. */
  pfx?: Buffer;
  /** The passphrase of `pfx` (or of an encrypted PEM key). Never logged. */
  passphrase?: string;
  /** Where it came from, for messages: the file name(s). */
  source: string;
}

/** A client certificate that cannot be used: the user's input is wrong. */
export class ClientCertificateError extends ConfigError {
  override name = 'ClientCertificateError';
  constructor(hint: ConfigHint, detail: string) {
    super('clientCertificate', hint, detail);
  }
}

/** What a refusal of the client certificate by the gateway carries to the front ends (on its TunnelError). */
export const REFUSED_CLIENT_CERTIFICATE: ConfigProblem = { field: 'clientCertificate', hint: 'present-accepted-certificate' };

/** The TLS options that present it. */
export function clientCertificateTls(certificate: ClientCertificate): Pick<tls.SecureContextOptions, 'cert' | 'key' | 'pfx' | 'passphrase'> {
  if (certificate.pfx) return { pfx: certificate.pfx, passphrase: certificate.passphrase };
  return { cert: certificate.cert, key: certificate.key, passphrase: certificate.passphrase };
}

/**
 * Checks that the certificate can be used: both parts of a PEM pair, a
 * passphrase that opens the PKCS#12 file, a key that matches.
 *
 * @throws {ClientCertificateError} saying which.
 */
export function checkClientCertificate(certificate: ClientCertificate): void {
  const { source } = certificate;
  if (!certificate.pfx) {
    const wrong = (detail: string) => new ClientCertificateError('fix-value', detail);
    if (!certificate.cert || !certificate.key) throw wrong(`the client certificate ${source} needs both a certificate and its key`);
    if (!String(certificate.cert).includes('-----BEGIN CERTIFICATE-----')) throw wrong(`no PEM certificate in ${source} (-----BEGIN CERTIFICATE-----)`);
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(String(certificate.key))) throw wrong(`no PEM private key in ${source} (-----BEGIN PRIVATE KEY-----)`);
  }
  try {
    tls.createSecureContext(clientCertificateTls(certificate));
  } catch (err) {
    const message = (err as Error).message;
    // OpenSSL's words are the only account of what failed: read here, once, into a hint.
    if (/mac verify failure|bad decrypt|wrong password|bad password/i.test(message)) {
      throw certificate.passphrase
        ? new ClientCertificateError('fix-passphrase', `the passphrase of ${source} is wrong`)
        : new ClientCertificateError('give-passphrase', `${source} is protected by a passphrase`);
    }
    if (/key values mismatch/i.test(message)) throw new ClientCertificateError('fix-value', `the key in ${source} does not belong to its certificate`);
    if (/not enough data|asn1|header too long|unsupported/i.test(message)) {
      throw new ClientCertificateError('fix-value', `${source} is not a PKCS#12 (.pfx/.p12) file or is damaged (${message})`);
    }
    throw new ClientCertificateError('fix-value', `cannot use the client certificate ${source}: ${message}`);
  }
}

/**
 * What a TLS alert about the client's certificate means, in words, or
 * undefined when `err` is not one. `where` is the endpoint as shown;
 * `sent` the certificate's source, or undefined when none was presented.
 * The remedy is REFUSED_CLIENT_CERTIFICATE's, worded by the front end.
 */
export function clientCertificateAlert(err: Error & { code?: string }, where: string, sent: string | undefined): string | undefined {
  const refused = (why: string) =>
    sent ? `TLS: ${where} refused the client certificate ${sent} (${why})` : `TLS: ${where} requires a client certificate and none was given (${why})`;
  switch (err.code) {
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
      return refused('certificate required');
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
      return refused('bad certificate');
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
      return sent ? refused('unknown CA: it does not trust the issuer of this certificate') : refused('unknown CA');
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED':
      return refused('certificate expired');
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED':
      return refused('certificate revoked');
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN':
    case 'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE':
      return refused('certificate unknown');
    case 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED':
      return refused('access denied');
    case 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE':
      // TLS 1.2 servers send this for a missing certificate, among other things.
      if (sent) return undefined;
      return `TLS: ${where} ended the handshake (handshake failure): it may require a client certificate, or share no TLS version or cipher with this client`;
  }
  return undefined;
}

/** nginx's answer to a missing or refused client certificate (a 400 page), in words; undefined for any other 400. */
export function clientCertificatePage(body: string, where: string, sent: string | undefined): string | undefined {
  if (/No required SSL certificate was sent/i.test(body)) {
    return `TLS: ${where} requires a client certificate and none was ${sent ? 'accepted' : 'given'} (400 No required SSL certificate was sent)`;
  }
  if (/The SSL certificate error/i.test(body)) {
    const why = '400 The SSL certificate error: not issued by a CA it trusts, expired or revoked';
    return `TLS: ${where} refused the client certificate${sent ? ` ${sent}` : ''} (${why})`;
  }
  return undefined;
}
