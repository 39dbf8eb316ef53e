/**
 * TLS trust for a wss:// endpoint: which certificates it may present, and
 * what to say when it presents another.
 *
 * By default Node's rules apply: a chain to a trusted CA (Node's bundled
 * list and NODE_EXTRA_CA_CERTS), valid dates, and the endpoint's host name
 * in the certificate. Each option adds to that, per endpoint:
 *
 * - `ca`: more CAs to trust (a company CA). Added to the default set, never
 *   instead of it.
 * - `systemCa`: the operating system's trust store too.
 * - `pin`: the sha256 fingerprint of the endpoint's own (leaf) certificate.
 *   Checked *in addition to* the chain, dates and name, so a pin also catches
 *   a TLS-intercepting proxy whose CA the machine trusts.
 * - `pinOnly`: the pin *replaces* the chain and name checks, for a server
 *   with a self-signed certificate. It is an explicit choice (the CLI's
 *   `--pin-only`), the dates are still checked, and a certificate whose
 *   fingerprint differs is refused: verification is never just off.
 * - `servername`: the name sent in SNI and checked in the certificate,
 *   instead of the endpoint's host (reaching `gw.example.com` by address).
 *
 * Nothing of the request (the Basic credentials included) is sent before the
 * certificate passed: the transport hands the socket to the HTTP client only
 * after `verify` (see transport.ts).
 */
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { defaultCertificates, systemCertificates } from './systemCertificates';
import { ClientCertificate, clientCertificateTls } from './clientCertificate';
import { ConfigError } from '../../tunnel/configErrors';
import { peerText } from '../../tunnel/peerText';

export interface TrustOptions {
  /** Extra CA certificates (PEM) to trust for wss://, in addition to the default ones. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Also trust the operating system's certificate store. @default false */
  systemCa?: boolean;
  /**
   * sha256 fingerprints of the endpoint's certificate, `sha256/BASE64` or hex
   * (colons allowed); the leaf certificate must match one of them. Checked in
   * addition to the issuer, dates and name, unless `pinOnly`.
   */
  pin?: string | string[];
  /**
   * The pin replaces the issuer and name checks: a self-signed certificate is
   * accepted when its fingerprint matches `pin`. The dates are still checked.
   * Needs `pin`. @default false
   */
  pinOnly?: boolean;
  /** The TLS server name to send (SNI) and to check the certificate against, instead of the endpoint's host. */
  servername?: string;
  /**
   * The certificate to present when the server asks for one (clientCertificate.ts);
   * none by default. Checked by `checkClientCertificate` where it is given.
   */
  clientCertificate?: ClientCertificate;
}

/** A trust setting that cannot work, e.g. a malformed pin: the user's input is wrong. */
export class TrustError extends ConfigError {
  override name = 'TrustError';
}

/** A certificate that the checks of this module refused; `code` says why. */
export class CertificateError extends Error {
  override name = 'CertificateError';
  constructor(
    readonly code: 'ERR_TLS_PIN_MISMATCH' | 'CERT_HAS_EXPIRED' | 'CERT_NOT_YET_VALID' | 'ERR_TLS_NO_CERTIFICATE',
    message: string,
    /** The fingerprint of the certificate the server presented, `sha256/BASE64`. */
    readonly fingerprint?: string,
  ) {
    super(message);
  }
}

export interface PreparedTrust {
  /** Options for `tls.connect`, to pass through the WebSocket client. */
  tls: tls.ConnectionOptions;
  /** Checks a socket after its handshake; an error means: send nothing on it. */
  verify(socket: tls.TLSSocket): Error | undefined;
}

const SHA256_BYTES = 32;
const EXAMPLE_PIN = 'sha256/BASE64 or AB:CD:… (openssl x509 -noout -fingerprint -sha256)';

/**
 * A pin as the user wrote it: `sha256/BASE64` (the form this program prints),
 * 64 hex digits with or without colons (`openssl x509 -fingerprint -sha256`,
 * whose `sha256 Fingerprint=` prefix may stay).
 *
 * @throws {TrustError} saying what is wrong with it.
 */
export function parsePin(text: string): Buffer {
  const input = text.trim().replace(/^sha256 fingerprint=/i, '');
  const b64 = /^sha256\/(.*)$/i.exec(input);
  if (b64) {
    const value = b64[1];
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) throw new TrustError('pin', 'fix-value', `"${text}": "${value}" is not base64`, 'pin');
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length !== SHA256_BYTES) {
      throw new TrustError('pin', 'fix-value', `"${text}": a sha256 fingerprint has 32 bytes, this one ${bytes.length}`, 'pin');
    }
    return bytes;
  }
  const hex = input.replace(/[:\s]/g, '');
  if (/^[0-9a-f]{64}$/i.test(hex)) return Buffer.from(hex, 'hex');
  throw new TrustError('pin', 'fix-value', `"${text}": expected ${EXAMPLE_PIN}`, 'pin');
}

/** A fingerprint as this program writes it: `sha256/BASE64`. */
export function formatPin(fingerprint: Buffer): string {
  return `sha256/${fingerprint.toString('base64')}`;
}

/** The sha256 fingerprint of a certificate (its DER bytes), as `openssl x509 -fingerprint -sha256` computes it. */
function certificateFingerprint(cert: { raw: Buffer }): Buffer {
  return crypto.createHash('sha256').update(cert.raw).digest();
}

/**
 * Checks a trust setting before any connection, so that a typo is reported at
 * start and not as a failed tunnel.
 *
 * @throws {TrustError}
 */
export function checkTrustOptions(trust: TrustOptions): void {
  const pins = pinList(trust.pin);
  for (const pin of pins) parsePin(pin);
  if (trust.pinOnly && pins.length === 0) throw new TrustError('pinOnly', 'add-pin', 'needs a pin: the fingerprint the certificate must have', 'pinOnly');
  if (trust.servername !== undefined) {
    const name = trust.servername;
    if (name === '' || net.isIP(name) !== 0 || !/^[A-Za-z0-9_.-]+$/.test(name) || name.length > 253) {
      throw new TrustError('servername', 'fix-value', `"${name}": expected a DNS name (TLS sends no address as the server name)`, 'servername');
    }
  }
}

/**
 * The TLS options and the post-handshake check for an endpoint on `host`.
 *
 * @throws {TrustError} for a malformed setting.
 * @throws {SystemCertificatesError} when `systemCa` is asked for and the store cannot be read.
 */
export async function prepareTrust(trust: TrustOptions, host: string): Promise<PreparedTrust> {
  checkTrustOptions(trust);
  const pins = pinList(trust.pin).map(parsePin);
  // The name the certificate must carry. Not taken from what Node passes to
  // checkServerIdentity: through an HTTP proxy that can be the proxy's host.
  const expectedName = trust.servername ?? host;
  const pinOnly = trust.pinOnly === true;
  const secureContext = await trustedContext(trust);

  const pinCheck = (cert: { raw: Buffer }): CertificateError | undefined => {
    if (pins.length === 0) return undefined;
    const actual = certificateFingerprint(cert);
    if (pins.some((pin) => pin.equals(actual))) return undefined;
    return new CertificateError(
      'ERR_TLS_PIN_MISMATCH',
      `the certificate's fingerprint is ${formatPin(actual)}, not the pinned ${pins.map(formatPin).join(' or ')}`,
      formatPin(actual),
    );
  };

  const options: tls.ConnectionOptions = {
    // Node refuses an IP address as SNI (RFC 6066 §3); it then checks the address.
    servername: trust.servername ?? (net.isIP(host) === 0 ? host : undefined),
    rejectUnauthorized: !pinOnly,
    checkServerIdentity: (_hostname, cert) => {
      if (pinOnly) return undefined; // verify() below decides
      return tls.checkServerIdentity(expectedName, cert) ?? pinCheck(cert);
    },
  };
  if (secureContext) options.secureContext = secureContext;

  return {
    tls: options,
    verify(socket) {
      if (!pinOnly) {
        // rejectUnauthorized has already refused anything else; this only
        // guards the rule that nothing is sent on an unverified socket.
        if (socket.authorized) return undefined;
        const err = new Error(`certificate not verified (${socket.authorizationError})`) as NodeJS.ErrnoException;
        err.code = String(socket.authorizationError);
        return err;
      }
      const cert = socket.getPeerCertificate();
      if (!cert || !cert.raw) return new CertificateError('ERR_TLS_NO_CERTIFICATE', 'the server presented no certificate');
      const mismatch = pinCheck(cert);
      if (mismatch) return mismatch;
      const now = Date.now();
      if (now > Date.parse(cert.valid_to)) {
        return new CertificateError('CERT_HAS_EXPIRED', `it expired on ${cert.valid_to}`, formatPin(certificateFingerprint(cert)));
      }
      if (now < Date.parse(cert.valid_from)) {
        return new CertificateError('CERT_NOT_YET_VALID', `it is valid only from ${cert.valid_from}`, formatPin(certificateFingerprint(cert)));
      }
      return undefined;
    },
  };
}

/**
 * What went wrong with a certificate, in words, or undefined when `err` is
 * not about the certificate. `where` is the endpoint as shown to people.
 */
export function certificateFailure(err: Error & { code?: string; reason?: string }, where: string): string | undefined {
  switch (err.code) {
    case 'CERT_HAS_EXPIRED':
      return `TLS: the certificate of ${where} has expired${err instanceof CertificateError ? ` (${err.message})` : ''}`;
    case 'CERT_NOT_YET_VALID':
      return `TLS: the certificate of ${where} is not valid yet: check this computer's clock`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `TLS: the certificate of ${where} is from an unknown issuer (${err.code}); trust its CA`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      // The reason lists the certificate's names: the server's text.
      return `TLS: the certificate does not match the host name of ${where}${err.reason ? ` (${peerText(err.reason)})` : ''}`;
    case 'ERR_TLS_PIN_MISMATCH':
      return `TLS: the certificate of ${where} does not match the pin: ${err.message}`;
    case 'ERR_TLS_NO_CERTIFICATE':
      return `TLS: ${where} presented no certificate`;
    case 'CERT_REVOKED':
    case 'CERT_SIGNATURE_FAILURE':
    case 'CERT_UNTRUSTED':
    case 'CERT_REJECTED':
    case 'INVALID_CA':
    case 'INVALID_PURPOSE':
    case 'PATH_LENGTH_EXCEEDED':
      return `TLS: the certificate of ${where} was refused (${err.code})`;
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return `TLS: no TLS server at ${where} (is it a ws:// endpoint?)`;
  }
  return undefined;
}

function pinList(pin: string | string[] | undefined): string[] {
  if (pin === undefined) return [];
  return (Array.isArray(pin) ? pin : [pin]).filter((p) => p.trim() !== '');
}

// A secure context parses every CA certificate once; built per trust
// setting, not per tunnel. Few settings exist in one process.
const contexts = new Map<string, tls.SecureContext>();
const MAX_CONTEXTS = 16;

/**
 * Node's default context when nothing is added; otherwise the default CAs
 * plus the added ones, and the client certificate. (A `secureContext` makes
 * tls.connect ignore `cert` and `key` given beside it, so the certificate
 * goes in here.)
 */
async function trustedContext(trust: TrustOptions): Promise<tls.SecureContext | undefined> {
  const added = trust.ca === undefined ? [] : (Array.isArray(trust.ca) ? trust.ca : [trust.ca]).map(String);
  const client = trust.clientCertificate;
  if (added.length === 0 && !trust.systemCa && !client) return undefined;
  const identity = client
    ? [client.source, String(client.cert ?? ''), String(client.key ?? ''), client.pfx?.toString('base64') ?? '', client.passphrase ?? '']
    : [];
  const key = crypto
    .createHash('sha256')
    .update(JSON.stringify([trust.systemCa === true, added, identity]))
    .digest('hex');
  let context = contexts.get(key);
  if (!context) {
    const system = trust.systemCa ? await systemCertificates() : [];
    const ca = added.length > 0 || trust.systemCa ? { ca: [...defaultCertificates(), ...system, ...added] } : {};
    context = tls.createSecureContext({ ...ca, ...(client ? clientCertificateTls(client) : {}) });
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value!);
    contexts.set(key, context);
  }
  return context;
}
