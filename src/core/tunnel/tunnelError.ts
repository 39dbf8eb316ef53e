/**
 * The error a tunnel that could not be opened ends in, wherever it failed (the
 * dial, a proxy setting, a PAC script): a refusal code from the table
 * (refusals.ts), hence the HTTP status and the SOCKS reply the local proxy
 * answers with, and a one-line reason a person can act on.
 */
import { REFUSALS, type RefusalCode } from './refusals';
import { ConfigError, type ConfigProblem } from './configErrors';

export class TunnelError extends Error {
  override name = 'TunnelError';
  constructor(
    /** Why, as a stable code: its row in refusals.ts gives the status and the SOCKS reply. */
    readonly refusal: RefusalCode,
    message: string,
    /**
     * What failed, for programs: the TLS error code for a certificate
     * (`CERT_HAS_EXPIRED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
     * `ERR_TLS_CERT_ALTNAME_INVALID`, `ERR_TLS_PIN_MISMATCH`, …),
     * `PROXY_<status>` for a refusal by the HTTP proxy (`PROXY_407`),
     * `PROXY_UNREACHABLE`, `PROXY_TIMEOUT` (no tunnel from the proxy in the
     * handshake time), `PROXY_SIGN_IN_TIMEOUT` (it asked for sign-in, which
     * did not finish in time), `PROXY_CONFIG`, `TRUST_CONFIG`, `TIMEOUT`,
     * `LEGACY_REFUSAL` (an original server's text frame or close).
     */
    readonly code?: string,
    /**
     * The setting at fault and what to do, when a setting caused it (a bad
     * trust or proxy setting, a client certificate the gateway wanted and did
     * not get): the front ends word the remedy from it (configErrors.ts).
     */
    readonly setting?: ConfigProblem,
  ) {
    super(message);
  }

  /** The refusal of a dial whose settings cannot work: `trust-config` or `proxy-config`, with the error's problem. */
  static fromConfig(refusal: 'trust-config' | 'proxy-config', err: ConfigError): TunnelError {
    return new TunnelError(refusal, err.message, refusal === 'trust-config' ? 'TRUST_CONFIG' : 'PROXY_CONFIG', err.problem);
  }

  /** The HTTP status the local proxy answers with. */
  get status(): number {
    return REFUSALS[this.refusal].status;
  }
}
