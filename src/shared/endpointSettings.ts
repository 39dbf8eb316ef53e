/**
 * An endpoint's settings as a person chooses them: how it is reached through
 * a corporate proxy, how the app signs in to that proxy, and the TLS trust.
 * The tray app stores them, its window edits them, a profile (NAME.wssh)
 * carries the proxy mode, and the core's plan (src/core/dial/endpointPlan.ts)
 * turns them into a dial.
 *
 * Runs anywhere (types and two small functions): no Node, no Electron, no DOM.
 */

/**
 * How an endpoint is reached: through the system's proxy settings (Windows'
 * settings, PAC included, as Electron resolves them for the endpoint's URL),
 * directly, or through the HTTP proxy at `url` (`http://[user:password@]host:port`).
 */
export type ProxySetting = 'system' | 'none' | { url: string };

/**
 * How the app signs in to an HTTP proxy that asks (407): with the Windows
 * sign-in of the user (SSPI's Negotiate, NTLM inside it: nothing stored, the
 * default), or with a user (`DOMAIN\\user` for NTLM) and a password stored
 * encrypted like the endpoint's secret. The password belongs to the proxy and
 * user it was saved for: another proxy or user does not get it. `clearBasic`
 * lets a `DOMAIN\\user` password go as Basic over plain http:// (readable on
 * the network), where the proxy asks for nothing stronger.
 */
export type ProxyAuthSetting = { mode: 'windows' } | { mode: 'password'; user: string; clearBasic?: boolean };

/**
 * What a stored proxy password and the approval of the Windows sign-in are
 * bound to: a custom proxy's origin (scheme, host and port, without
 * credentials; a bare `host:port` is http://, as the core reads it), or the
 * mode itself ('system', 'none'). Edited to another, neither follows.
 */
export function proxyBinding(setting: ProxySetting): string {
  if (typeof setting !== 'object') return setting;
  const text = String(setting.url).trim();
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`).origin;
  } catch {
    return `not a URL: ${text}`;
  }
}

/** A proxy setting as a person reads it. */
export function proxySettingText(proxy: ProxySetting): string {
  if (proxy === 'system') return 'System (Windows’ proxy settings)';
  if (proxy === 'none') return 'None (always direct)';
  return proxy.url;
}

/** The TLS trust of a wss:// endpoint, beyond the default CAs (see src/core/dial/trust/trust.ts). */
export interface EndpointTrust {
  /** A PEM file of CA certificates to trust too (a company CA). */
  caFile?: string;
  /** Also trust the operating system's certificate store. */
  systemCa?: boolean;
  /** sha256 fingerprints of the endpoint's certificate (`sha256/BASE64` or hex); one must match. */
  pins?: string[];
  /** The pin replaces the issuer and name checks (a self-signed server); dates are still checked. */
  pinOnly?: boolean;
  /** The TLS server name (SNI) to send and check instead of the endpoint's host. */
  servername?: string;
  /** A client certificate (PEM file) to present when the gateway asks, with `clientKey`. */
  clientCert?: string;
  /** The private key (PEM file) of `clientCert`. */
  clientKey?: string;
  /** A client certificate and key as one PKCS#12 file (.pfx/.p12), instead of `clientCert`/`clientKey`; its passphrase is stored encrypted. */
  clientPfx?: string;
}
