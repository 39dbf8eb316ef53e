/**
 * Configuration errors: a setting that cannot work, whether the user typed it
 * (a malformed pin, a proxy URL with the wrong scheme) or the system supplied
 * it (an empty trust store, a PAC answer with only SOCKS proxies).
 *
 * Core has two front ends whose users fix the same setting in different
 * places: the CLI's user with a flag (`--ca FILE`), the tray app's in a field
 * of the endpoint editor ("CA file"). So a configuration error says what is
 * wrong and nothing about where to change it; it carries the setting at fault
 * (`field`) and what can be done about it (`hint`), and each front end words
 * the remedy with its own names by a `switch` over both (cli/configRemedies.ts,
 * main/settings/configRemedies.ts), which the compiler checks for every value below.
 *
 * Refusals of a tunnel (refusals.ts) are a different family: what the network
 * or the server said. A refusal caused by a setting (the dial's TunnelError
 * for a bad trust or proxy setting, or a gateway that wanted another client
 * certificate) carries the same `ConfigProblem` on to the front ends.
 *
 * Adding one: a member below, and the compiler lists the front ends' switches
 * that must word it.
 */

/** The setting at fault. The CLI names each by its flag, the app by the endpoint editor's label. */
export type ConfigField =
  /** Trust the operating system's certificate store too (`TrustOptions.systemCa`). */
  | 'systemCa'
  /** The fingerprints the endpoint's certificate must match (`TrustOptions.pin`). */
  | 'pin'
  /** The pin replaces the issuer and name checks (`TrustOptions.pinOnly`). */
  | 'pinOnly'
  /** The TLS server name (`TrustOptions.servername`). */
  | 'servername'
  /** The HTTP proxy to reach the endpoint through: the user's, the system's, a PAC script's or the environment's. */
  | 'proxy'
  /** What may be sent to sign in to that proxy (`ProxySignInRules`): the Windows sign-in, Basic over plain http://. */
  | 'proxySignIn'
  /** The client certificate presented to the gateway, with its key or passphrase (`TrustOptions.clientCertificate`). */
  | 'clientCertificate';

/** What the user can do about it; each front end says it in its own words. */
export type ConfigHint =
  /** The value is malformed (or the file is the wrong kind): the message says what is expected. */
  | 'fix-value'
  /** Pin only, but no pin: add the fingerprint the certificate must have (or stop pinning only). */
  | 'add-pin'
  /** The system's trust store holds nothing: give the CA certificate itself. */
  | 'add-ca'
  /**
   * This Node cannot read the system's trust store: give the CA certificate
   * itself; a program started by its user may instead run on a Node that reads
   * the store (22.15 or newer, or with --use-openssl-ca).
   */
  | 'add-ca-or-newer-node'
  /** A PKCS#12 file (or an encrypted key) needs its passphrase. */
  | 'give-passphrase'
  /** The passphrase given does not open it. */
  | 'fix-passphrase'
  /** The gateway wants a client certificate it accepts, and did not get one. */
  | 'present-accepted-certificate'
  /**
   * The proxy that the system, a PAC script or the environment names cannot
   * be used: set it right there, or choose the proxy (or none) for WSSH.
   */
  | 'choose-proxy'
  /**
   * The proxy asked for the user's Windows sign-in, which goes only to a
   * proxy the user or the system chose, and this one came from elsewhere (a
   * profile): the user may approve it, if they trust it.
   */
  | 'approve-windows-sign-in'
  /**
   * The proxy asked for Basic over plain http://, which would show a
   * `DOMAIN\\user`'s password to the network: use an https:// proxy, or
   * allow it knowingly.
   */
  | 'allow-clear-basic';

/** The setting at fault and what to do: all a front end needs to word the remedy. */
export interface ConfigProblem {
  readonly field: ConfigField;
  readonly hint: ConfigHint;
}

/**
 * A setting that cannot work. Its `message` is core's own sentence (what
 * programs using core see); a front end that names the setting its own way
 * puts that name in front of `detail` instead of `subject`.
 */
export class ConfigError extends Error implements ConfigProblem {
  override name = 'ConfigError';
  constructor(
    readonly field: ConfigField,
    readonly hint: ConfigHint,
    /** What is wrong, without the setting's name: `"10.0.0.1": expected a DNS name`, or a sentence of its own. */
    readonly detail: string,
    /** The setting as core names it, when the message starts with it: `servername`, `HTTPS_PROXY`. */
    readonly subject?: string,
  ) {
    super(subject === undefined ? detail : `${subject} ${detail}`);
  }

  /** The field and the hint alone, for an error that carries them on (a TunnelError). */
  get problem(): ConfigProblem {
    return { field: this.field, hint: this.hint };
  }
}
