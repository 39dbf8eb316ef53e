/**
 * An endpoint's advanced settings (proxy and TLS trust) as the tray app keeps
 * them, mapped into the core's plan (src/core/dial/endpointPlan.ts): checked
 * with the core's own parsers (so the editor shows the message a tunnel would
 * give), the CA file and client certificate read at start, and the system
 * proxy asked for per tunnel.
 *
 * The system proxy comes from a function of Electron's
 * `session.defaultSession.resolveProxy` shape (a URL in, a PAC-style answer
 * like `PROXY host:port; DIRECT` out), injected so tests pass their own.
 */
import fs from 'node:fs/promises';
import { TrustError, TrustOptions, checkTrustOptions, parsePin } from '../../core/dial/trust/trust';
import { ProxyConfigError, parseProxyUrl } from '../../core/upstream/upstreamProxy';
import { proxyQueryUrl } from '../../core/upstream/routes';
import { ClientCertificate, checkClientCertificate } from '../../core/dial/trust/clientCertificate';
import { EndpointSettings, ProxySignIn, SystemProxyAnswer, proxySourceOf, withProxyCredentials } from '../../core/dial/endpointPlan';
import type { AdvancedProblems, EndpointTrust, ProxyAuthSetting, ProxySetting } from '../../shared/ipc';

export { proxyQueryUrl, withProxyCredentials };

/** What a direct connection is called in the app's log when it is tried after a proxy that cannot be reached. */
export const DIRECT_IN_THE_LOG = 'a direct connection';

/**
 * The per-field problems of the advanced settings; an empty object when all
 * is well. A user and password typed into a custom proxy URL are fine: the
 * store moves them to the proxy sign-in (`splitProxyCredentials`), the
 * password encrypted, so the URL in the settings file never holds one.
 */
export function advancedProblems(proxy: ProxySetting, trust: EndpointTrust, proxyAuth?: ProxyAuthSetting): AdvancedProblems {
  const problems: AdvancedProblems = {};
  if (typeof proxy === 'object') {
    if (typeof proxy.url !== 'string' || proxy.url.trim() === '') {
      problems.proxyUrl = 'give the proxy URL, e.g. http://proxy.example.com:3128';
    } else {
      try {
        parseProxyUrl(proxy.url);
      } catch (err) {
        if (!(err instanceof ProxyConfigError)) throw err;
        problems.proxyUrl = err.message;
      }
    }
  }
  if (proxyAuth?.mode === 'password') {
    const user = typeof proxyAuth.user === 'string' ? proxyAuth.user.trim() : '';
    if (user === '') problems.proxyUser = 'give the proxy user (DOMAIN\\user for NTLM), or choose "Use my Windows sign-in"';
    else if (/[:\r\n]/.test(user) || user.length > 256) problems.proxyUser = 'the proxy user must be one line without ":"';
  }
  const certFiles = [trust.clientCert, trust.clientKey, trust.clientPfx];
  if (certFiles.some((f) => f !== undefined && /[\r\n]/.test(f))) problems.clientCert = 'a certificate file path must be one line';
  else if (trust.clientPfx && (trust.clientCert || trust.clientKey)) problems.clientCert = 'give a PKCS#12 file or a certificate and key, not both';
  else if (!!trust.clientCert !== !!trust.clientKey)
    problems.clientCert = trust.clientCert ? 'the client certificate needs its key file' : 'the key needs its client certificate file';
  const pins = (trust.pins ?? []).filter((p) => p.trim() !== '');
  for (const pin of pins) {
    try {
      parsePin(pin);
    } catch (err) {
      if (!(err instanceof TrustError)) throw err;
      problems.pins = err.message;
      break;
    }
  }
  // The core's rule (checkTrustOptions), in the editor's words: its option is "Pin only".
  if (trust.pinOnly && pins.length === 0) problems.pinOnly = 'pin only needs a pinned fingerprint: the one the certificate must have';
  if (trust.servername !== undefined && trust.servername !== '') {
    try {
      checkTrustOptions({ servername: trust.servername });
    } catch (err) {
      if (!(err instanceof TrustError)) throw err;
      problems.servername = err.message;
    }
  }
  if (trust.caFile !== undefined && /[\r\n]/.test(trust.caFile)) problems.caFile = 'the CA file path must be one line';
  return problems;
}

/** The settings as stored: trimmed, empty fields left out. */
export function normalizeTrust(trust: EndpointTrust): EndpointTrust {
  const out: EndpointTrust = {};
  const caFile = trust.caFile?.trim();
  if (caFile) out.caFile = caFile;
  if (trust.systemCa) out.systemCa = true;
  const pins = (trust.pins ?? []).map((p) => p.trim()).filter(Boolean);
  if (pins.length > 0) out.pins = pins;
  if (trust.pinOnly) out.pinOnly = true;
  const servername = trust.servername?.trim();
  if (servername) out.servername = servername;
  for (const name of ['clientCert', 'clientKey', 'clientPfx'] as const) {
    const file = trust[name]?.trim();
    if (file) out[name] = file;
  }
  return out;
}

/**
 * A custom proxy URL with `user[:password]@` in it: the URL without them and
 * the decoded user and password (the store keeps the password encrypted).
 */
export function splitProxyCredentials(url: string): { url: string; user?: string; password?: string } {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@(.*)$/i.exec(url.trim());
  if (!match) return { url: url.trim() };
  const [userPart, ...rest] = match[2].split(':');
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  return { url: match[1] + match[3], user: decode(userPart), password: rest.length > 0 ? decode(rest.join(':')) : undefined };
}

export function normalizeProxy(proxy: ProxySetting): ProxySetting {
  return typeof proxy === 'object' ? { url: proxy.url.trim() } : proxy;
}

async function readSetting(what: string, file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new Error(`cannot read the ${what} ${file}: ${why}`, { cause: err });
  }
}

/**
 * The core's trust options for an endpoint, the CA file and the client
 * certificate read now (`clientPassphrase` opens a PKCS#12 file).
 * @throws {Error} saying which file could not be read and why.
 * @throws {ClientCertificateError} for a certificate that cannot be used (its hint says what to do).
 */
export async function loadTrust(trust: EndpointTrust, clientPassphrase?: string): Promise<TrustOptions> {
  const options: TrustOptions = {};
  if (trust.clientPfx || trust.clientCert) {
    const certificate: ClientCertificate = trust.clientPfx
      ? { pfx: await readSetting('client certificate file', trust.clientPfx), passphrase: clientPassphrase || undefined, source: trust.clientPfx }
      : {
          cert: (await readSetting('client certificate file', trust.clientCert!)).toString('utf8'),
          key: trust.clientKey ? (await readSetting('client key file', trust.clientKey)).toString('utf8') : undefined,
          passphrase: clientPassphrase || undefined,
          source: trust.clientCert!,
        };
    checkClientCertificate(certificate);
    options.clientCertificate = certificate;
  }
  if (trust.caFile) {
    const pem = (await readSetting('CA file', trust.caFile)).toString('utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`the CA file ${trust.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    options.ca = pem;
  }
  if (trust.systemCa) options.systemCa = true;
  if (trust.pins && trust.pins.length > 0) options.pin = trust.pins;
  if (trust.pinOnly) options.pinOnly = true;
  if (trust.servername) options.servername = trust.servername;
  return options;
}

/** The proxy setting and sign-in of an endpoint, as the app holds them now. */
export interface EndpointProxy {
  proxy: ProxySetting;
  proxyAuth?: ProxySignIn;
  /** The user approved the custom proxy for their Windows sign-in; without it, the custom proxy gets none. */
  proxyWindowsSignIn?: boolean;
}

/**
 * An endpoint of the app as the plan's settings. `current` is asked at each
 * dial (the active endpoint may be switched while the tunnel runs); the trust
 * is what loadTrust read at start.
 */
export function appEndpointSettings(
  current: () => EndpointProxy | undefined,
  trust: TrustOptions,
  options: { resolveSystemProxy?: SystemProxyAnswer; log?: (line: string) => void; handshakeTimeoutMs?: number; keepaliveMs?: number } = {},
): EndpointSettings {
  return {
    proxy: () => {
      const now = current();
      return proxySourceOf(now?.proxy ?? 'system', options.resolveSystemProxy, now?.proxyWindowsSignIn === true);
    },
    proxySignIn: () => current()?.proxyAuth,
    trust,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    keepaliveMs: options.keepaliveMs,
    log: options.log,
    direct: DIRECT_IN_THE_LOG,
  };
}
