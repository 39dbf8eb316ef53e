/**
 * The error a tunnel that could not be opened ends in, wherever it failed (the
 * dial, a proxy setting, a PAC script): a refusal code from the table
 * (refusals.ts), hence the HTTP status and the SOCKS reply the local proxy
 * answers with, and a one-line reason a person can act on.
 */
import { RefusalError, type RefusalCode, type RefusalErrorOptions } from './refusals';
import { ConfigError, type ConfigProblem } from './configErrors';

/** The TLS errors about the endpoint's certificate that the dialer names (certificateFailure in dial/trust/trust.ts). */
export type CertificateErrorCode =
  | 'CERT_HAS_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'DEPTH_ZERO_SELF_SIGNED_CERT'
  | 'SELF_SIGNED_CERT_IN_CHAIN'
  | 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
  | 'UNABLE_TO_GET_ISSUER_CERT'
  | 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
  | 'ERR_TLS_CERT_ALTNAME_INVALID'
  | 'ERR_TLS_PIN_MISMATCH'
  | 'ERR_TLS_NO_CERTIFICATE'
  | 'CERT_REVOKED'
  | 'CERT_SIGNATURE_FAILURE'
  | 'CERT_UNTRUSTED'
  | 'CERT_REJECTED'
  | 'INVALID_CA'
  | 'INVALID_PURPOSE'
  | 'PATH_LENGTH_EXCEEDED'
  | 'ERR_SSL_WRONG_VERSION_NUMBER';

/** The TLS alerts about the client's certificate that the dialer names (clientCertificateAlert in dial/trust/clientCertificate.ts). */
export type ClientCertificateAlertCode =
  | 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'
  | 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'
  | 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'
  | 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED'
  | 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED'
  | 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN'
  | 'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE'
  | 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED'
  | 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE';

/**
 * What failed, for programs (`TunnelError.code`); every code thrown:
 *
 * - a CertificateErrorCode: the endpoint's certificate (`certificate`);
 * - a ClientCertificateAlertCode: the gateway's TLS alert about the client
 *   certificate, or `CLIENT_CERTIFICATE` for nginx's 400 page about it
 *   (`client-certificate`);
 * - `PROXY_<status>`: the HTTP proxy refused the tunnel with that status
 *   (`PROXY_407`, `PROXY_403`, `PROXY_502`, …);
 * - `PROXY_UNREACHABLE`: no connection to the HTTP proxy itself;
 * - `PROXY_TIMEOUT`: the proxy did not open the tunnel in the handshake time;
 * - `PROXY_SIGN_IN_TIMEOUT`: it asked for sign-in (407), which did not finish in time;
 * - `PROXY_CONFIG`, `TRUST_CONFIG`: the proxy or the TLS trust settings cannot be used;
 * - `TIMEOUT`: the TCP connect or the WebSocket handshake timed out;
 * - `LEGACY_REFUSAL`: an original server's text frame or close after the upgrade;
 * - `EMFILE`, `ENFILE`: this process had no file descriptor for the dial.
 *
 * Other refusals (the server's status, a DNS or connect error) carry none.
 */
export type TunnelErrorCode =
  | CertificateErrorCode
  | ClientCertificateAlertCode
  | 'CLIENT_CERTIFICATE'
  | `PROXY_${number}`
  | 'PROXY_UNREACHABLE'
  | 'PROXY_TIMEOUT'
  | 'PROXY_SIGN_IN_TIMEOUT'
  | 'PROXY_CONFIG'
  | 'TRUST_CONFIG'
  | 'TIMEOUT'
  | 'LEGACY_REFUSAL'
  | 'EMFILE'
  | 'ENFILE';

export interface TunnelErrorOptions extends RefusalErrorOptions {
  /** What failed, for programs (TunnelErrorCode). */
  code?: TunnelErrorCode;
  /**
   * The setting at fault and what to do, when a setting caused it (a bad
   * trust or proxy setting, a client certificate the gateway wanted and did
   * not get): the front ends word the remedy from it (configErrors.ts).
   */
  setting?: ConfigProblem;
}

export class TunnelError extends RefusalError {
  override name = 'TunnelError';
  /** What failed, for programs: see TunnelErrorCode. */
  readonly code?: TunnelErrorCode;
  /** The setting at fault, when a setting caused it. */
  readonly setting?: ConfigProblem;

  constructor(refusal: RefusalCode, message: string, options: TunnelErrorOptions = {}) {
    super(refusal, message, options);
    this.code = options.code;
    this.setting = options.setting;
  }

  /** The refusal of a dial whose settings cannot work: `trust-config` or `proxy-config`, with the error's problem. */
  static fromConfig(refusal: 'trust-config' | 'proxy-config', err: ConfigError): TunnelError {
    return new TunnelError(refusal, err.message, {
      code: refusal === 'trust-config' ? 'TRUST_CONFIG' : 'PROXY_CONFIG',
      setting: err.problem,
      cause: err,
    });
  }
}
