/**
 * An endpoint's advanced settings (proxy and TLS trust) turned into what the
 * core takes: checked with the core's own parsers (so the editor shows the
 * message a tunnel would give), the CA file read at start, and the system
 * proxy asked for per tunnel.
 *
 * The system proxy comes from a function of Electron's
 * `session.defaultSession.resolveProxy` shape (a URL in, a PAC-style answer
 * like `PROXY host:port; DIRECT` out), injected so tests pass their own.
 */
import fs from 'node:fs/promises';
import type { Endpoint } from '../shared/endpoint';
import { TunnelError } from '../core/dialer';
import { TrustError, TrustOptions, checkTrustOptions, parsePin } from '../core/trust';
import { ProxyConfigError, parseProxyUrl, proxyFromPac } from '../core/upstreamProxy';
import type { AdvancedProblems, EndpointTrust, ProxySetting } from '../shared/ipc';

/** Electron's `session.resolveProxy(url)`: the PAC-style answer for a URL. */
export type SystemProxyResolver = (url: string) => Promise<string>;

/** The per-field problems of the advanced settings; an empty object when all is well. */
export function advancedProblems(proxy: ProxySetting, trust: EndpointTrust): AdvancedProblems {
  const problems: AdvancedProblems = {};
  if (typeof proxy === 'object') {
    try {
      if (typeof proxy.url !== 'string' || proxy.url.trim() === '') throw new ProxyConfigError('give the proxy URL, e.g. http://proxy.example.com:3128');
      parseProxyUrl(proxy.url);
      // The settings file holds the URL as it is: a password in it would be
      // stored in the clear, where only the endpoint's secret is encrypted.
      if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(proxy.url.trim())) {
        throw new ProxyConfigError('leave the password out of the proxy URL: the app does not store proxy passwords (wssh connect --proxy or HTTPS_PROXY can carry one)');
      }
    } catch (err) {
      if (!(err instanceof ProxyConfigError)) throw err;
      problems.proxyUrl = err.message;
    }
  }
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
  return out;
}

export function normalizeProxy(proxy: ProxySetting): ProxySetting {
  return typeof proxy === 'object' ? { url: proxy.url.trim() } : proxy;
}

/**
 * The core's trust options for an endpoint, the CA file read now.
 * @throws {Error} saying which file could not be read and why.
 */
export async function loadTrust(trust: EndpointTrust): Promise<TrustOptions> {
  const options: TrustOptions = {};
  if (trust.caFile) {
    let pem: string;
    try {
      pem = await fs.readFile(trust.caFile, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
      throw new Error(`cannot read the CA file ${trust.caFile}: ${why}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`the CA file ${trust.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    options.ca = pem;
  }
  if (trust.systemCa) options.systemCa = true;
  if (trust.pins && trust.pins.length > 0) options.pin = trust.pins;
  if (trust.pinOnly) options.pinOnly = true;
  if (trust.servername) options.servername = trust.servername;
  return options;
}

/** The URL the system proxy is asked about: the endpoint as the http(s) URL it is to a proxy, without credentials. */
export function proxyQueryUrl(endpoint: Endpoint): string {
  const url = new URL(endpoint.url.replace(/^ws/, 'http'));
  url.username = '';
  url.password = '';
  return url.toString();
}

/**
 * The core's per-dial proxy choice for a setting: 'system' asks `system`
 * (when there is none, e.g. outside Electron, the environment's HTTPS_PROXY
 * applies), 'none' is a direct connection, a URL is that proxy.
 */
export function proxyChooser(setting: ProxySetting, system?: SystemProxyResolver): (endpoint: Endpoint) => Promise<string | false | undefined> {
  return async (endpoint) => {
    if (setting === 'none') return false;
    if (typeof setting === 'object') return setting.url;
    if (!system) return undefined;
    let answer: string;
    try {
      answer = await system(proxyQueryUrl(endpoint));
    } catch (err) {
      throw new TunnelError('proxy-config', `cannot read the system proxy settings: ${(err as Error).message}`, 'PROXY_CONFIG');
    }
    try {
      return proxyFromPac(answer);
    } catch (err) {
      if (err instanceof ProxyConfigError) throw new TunnelError('proxy-config', err.message, 'PROXY_CONFIG');
      throw err;
    }
  };
}
