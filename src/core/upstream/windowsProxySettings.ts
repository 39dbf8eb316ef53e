/**
 * The proxy settings of a Windows user, as Internet Explorer, Edge, Chrome and
 * WinINet keep them under
 * `HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings`, turned
 * into the routes to an endpoint. Pure functions: the registry is read and
 * its values parsed elsewhere (windowsRegistry.ts), so these are tested with
 * any values.
 *
 * The values:
 * - `ProxyEnable` (DWORD): the manual proxy below is on.
 * - `ProxyServer`: `host:port` for every scheme, or per scheme
 *   `http=a:3128;https=b:3128;ftp=…;socks=c:1080`. A scheme with no entry is
 *   reached directly, except that `socks=` then serves it (which WSSH cannot
 *   use: it says so).
 * - `ProxyOverride`: `;`-separated hosts to reach directly, with `*`
 *   wildcards (`*.corp.example.com`, `10.*`), optionally with a port; the
 *   entry `<local>` means every host name without a dot.
 * - `AutoConfigURL`: a PAC script, which takes precedence over the manual
 *   proxy (systemProxy.ts evaluates it).
 */
import type { Endpoint } from '../../shared/endpoint';
import type { ProxyRoute } from './routes';
import { ProxyConfigError, parseProxyUrl } from './upstreamProxy';
import { type RegValues, valueNamed } from '../windowsRegistry';

export const INTERNET_SETTINGS_KEY = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';

export interface InternetSettings {
  proxyEnable: boolean;
  proxyServer?: string;
  proxyOverride?: string;
  autoConfigUrl?: string;
}

/** The proxy values among a key's values (names are case-insensitive, as in the registry). */
export function internetSettingsFrom(values: RegValues): InternetSettings {
  const text = (name: string) => {
    const data = valueNamed(values, name)?.data.trim();
    return data ? data : undefined;
  };
  const enable = valueNamed(values, 'ProxyEnable');
  // A DWORD, which reg shows as 0x1; a string "1" is taken as on too.
  const enabled = enable?.type === 'REG_DWORD' || enable?.type === 'REG_QWORD' ? Number(enable.data) > 0 : enable?.data.trim() === '1';
  return {
    proxyEnable: enabled,
    proxyServer: text('ProxyServer'),
    proxyOverride: text('ProxyOverride'),
    autoConfigUrl: text('AutoConfigURL'),
  };
}

/** The endpoint's host (lower case, IPv6 without brackets) and port, as the bypass list matches them. */
export function endpointHostPort(endpoint: Endpoint): { host: string; port: number } {
  const url = new URL(endpoint.url);
  const port = url.port ? Number(url.port) : endpoint.secure ? 443 : 80;
  return { host: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port };
}

/**
 * Whether `ProxyOverride` sends `host:port` directly. Entries match the whole
 * host, case-insensitively, with `*` for any characters; an entry with a port
 * (`gw.corp:8443`) matches that port only; a scheme in front (`https://…`) is
 * ignored. `<local>` matches a host name without a dot.
 */
export function bypassesProxy(override: string | undefined, host: string, port: number): boolean {
  if (!override) return false;
  const name = host.toLowerCase();
  for (const raw of override.split(/[;\s]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '<local>') {
      if (!name.includes('.') && !name.includes(':')) return true;
      continue;
    }
    entry = entry.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
    let entryPort: number | undefined;
    // host:port or [v6]:port; a bare IPv6 address (several colons) has no port.
    const withPort = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(entry);
    if (withPort) {
      entry = withPort[1];
      entryPort = Number(withPort[2]);
    }
    entry = entry.replace(/^\[|\]$/g, '');
    if (entryPort !== undefined && entryPort !== port) continue;
    if (wildcardMatch(entry, name)) return true;
  }
  return false;
}

/**
 * The manual proxy's routes to `endpoint`: `[false]` (direct) when it is off,
 * bypassed or has no entry for the endpoint's scheme; else the one proxy.
 * wss:// is an https:// URL to a proxy, ws:// an http:// one.
 *
 * @throws {ProxyConfigError} for a ProxyServer WSSH cannot use (SOCKS only, or not host:port).
 */
export function manualProxyRoutes(settings: InternetSettings, endpoint: Endpoint): ProxyRoute[] {
  if (!settings.proxyEnable || !settings.proxyServer) return [false];
  const { host, port } = endpointHostPort(endpoint);
  if (bypassesProxy(settings.proxyOverride, host, port)) return [false];
  const server = settings.proxyServer;
  const source = `the Windows proxy setting ProxyServer "${server}"`;
  let hostPort: string | undefined;
  if (server.includes('=')) {
    const schemes = new Map<string, string>();
    for (const part of server.split(/[;\s]+/)) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(eq + 1).trim()) schemes.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
    }
    hostPort = schemes.get(endpoint.secure ? 'https' : 'http');
    if (hostPort === undefined) {
      if (schemes.has('socks')) {
        const scheme = endpoint.secure ? 'https' : 'http';
        const why = `sends ${scheme} through SOCKS only: WSSH reaches its endpoint through HTTP proxies (it has no ${scheme}= entry)`;
        throw new ProxyConfigError('choose-proxy', why, source);
      }
      return [false];
    }
  } else {
    hostPort = server.split(/[;\s]+/)[0];
  }
  // WinINet speaks plain HTTP to a proxy given as host:port, also for https URLs (CONNECT).
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(hostPort) ? hostPort : `http://${hostPort}`;
  try {
    return [parseProxyUrl(withScheme, source).url.href.replace(/\/$/, '')];
  } catch (err) {
    if (err instanceof ProxyConfigError) throw new ProxyConfigError('choose-proxy', `"${hostPort}" is not a proxy's host:port`, `${source}:`);
    throw err;
  }
}

/**
 * Whether all of `text` matches `pattern`, whose `*` stands for any run of
 * characters: the greedy two-pointer match, which takes at most
 * length × pattern steps. (A RegExp of `.*`s backtracks: `*a*a*a*a*a*a*b`
 * against a long host name took minutes, found by fuzzing.)
 */
function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
