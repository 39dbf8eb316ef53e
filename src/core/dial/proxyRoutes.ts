/**
 * The ways to the endpoint a PAC script or the system settings give, in
 * order, and a dial that takes them one after the other.
 *
 * A PAC answer is a list (`PROXY a:3128; PROXY b:3128; DIRECT`): browsers try
 * the next entry when a proxy cannot be reached at all (connection refused,
 * no route, its name does not resolve, or no answer at all within the dial's
 * deadline), not when it answered: a refusal, or a sign-in it asked for. A
 * refusal (407, 403) is the proxy's verdict and is reported as it is; a
 * WSSH server or TLS failure is the endpoint's and would be the same through
 * the next proxy.
 *
 * Each attempt is the dialer's ordinary per-proxy path (upstreamProxy.ts,
 * transport.ts): this module only chooses which.
 */
import type WebSocket from 'ws';
import type { Endpoint } from '../../shared/endpoint';
import { DialOptions, TunnelError, dial } from './dialer';
import type { Target } from '../../shared/target';
import { ProxyConfigError, UNUSABLE_PROXY_SETTING, displayProxy } from '../upstream/upstreamProxy';

/** One way to the endpoint: an HTTP proxy's URL, or `false` for a direct connection. */
export type ProxyRoute = string | false;

/**
 * What a caller decides per dial: a list of routes to try in order, one
 * route, or undefined for the environment's proxy (HTTPS_PROXY and NO_PROXY).
 */
export type ProxyDecision = ProxyRoute[] | ProxyRoute | undefined;

/**
 * The routes in a PAC-style answer (a PAC script's, or Electron's
 * `session.resolveProxy()`'s), in order: `PROXY`/`HTTP` host:port (http://),
 * `HTTPS` host:port (a proxy spoken to over TLS), `DIRECT`. SOCKS entries are
 * skipped: the endpoint is reached through HTTP proxies only. An empty answer
 * means DIRECT, as in browsers. `source` names the answer's origin for the
 * message.
 *
 * @throws {ProxyConfigError} when no entry is usable.
 */
export function parsePacAnswer(answer: string, source = 'the system proxy setting'): ProxyRoute[] {
  const entries = answer
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) return [false];
  const routes: ProxyRoute[] = [];
  for (const entry of entries) {
    const [kind, hostPort] = entry.split(/\s+/, 2);
    switch (kind.toUpperCase()) {
      case 'DIRECT':
        routes.push(false);
        break;
      case 'PROXY':
      case 'HTTP':
        if (hostPort) routes.push(`http://${hostPort}`);
        break;
      case 'HTTPS':
        if (hostPort) routes.push(`https://${hostPort}`);
        break;
    }
  }
  // Later DIRECTs and repeats add nothing: the same way fails the same way.
  const unique = routes.filter((r, i) => routes.indexOf(r) === i);
  if (unique.length === 0) {
    throw new ProxyConfigError('choose-proxy', `"${answer}" has no HTTP proxy and no DIRECT: WSSH cannot use SOCKS to reach its endpoint`, source);
  }
  return unique;
}

/** The URL a proxy setting (a PAC script, the system) is asked about: the endpoint as the http(s) URL it is to a proxy, without credentials. */
export function proxyQueryUrl(endpoint: Endpoint): string {
  const url = new URL(endpoint.url.replace(/^ws/, 'http'));
  url.username = '';
  url.password = '';
  return url.toString();
}

/** Routes as a person reads them: `http://a:3128, then http://b:3128, then DIRECT`; credentials as `***`. */
export function describeRoutes(routes: ProxyRoute[]): string {
  return routes.map(describeRoute).join(', then ');
}

export function describeRoute(route: ProxyRoute): string {
  if (route === false) return 'DIRECT';
  try {
    return displayProxy(new URL(route));
  } catch {
    return route.replace(/\/\/[^@/]*@/, '//***@');
  }
}

export interface RoutedDialOptions extends DialOptions {
  /** Told each time a route cannot be reached (or did not answer in time) and the next one is tried. */
  onFallback?: (failed: ProxyRoute, reason: string, next: ProxyRoute) => void;
}

/**
 * Dials through the first route that can be reached. A decision that is not a
 * list is one dial as before (`undefined`: the environment's proxy). When
 * every route fails, the error is the last one's, naming the ones tried
 * before it.
 */
export async function dialRoutes(endpoint: Endpoint, target: Target, decision: ProxyDecision, options: RoutedDialOptions = {}): Promise<WebSocket> {
  const { onFallback, ...dialOptions } = options;
  if (!Array.isArray(decision)) return dial(endpoint, target, { ...dialOptions, proxy: decision });
  if (decision.length === 0) throw new TunnelError('proxy-config', 'no proxy and no DIRECT to reach the endpoint', 'PROXY_CONFIG', UNUSABLE_PROXY_SETTING);
  const failures: string[] = [];
  for (let i = 0; ; i++) {
    const route = decision[i];
    try {
      return await dial(endpoint, target, { ...dialOptions, proxy: route });
    } catch (err) {
      const next = decision[i + 1];
      // Unreachable, or no answer at all in time (PROXY_TIMEOUT); not an
      // answer (a 407 and a sign-in that did not finish, its own 504).
      const unreachable = err instanceof TunnelError && (err.refusal === 'proxy-unreachable' || err.code === 'PROXY_UNREACHABLE' || err.code === 'PROXY_TIMEOUT');
      if (!unreachable || next === undefined || options.signal?.aborted) {
        if (failures.length === 0 || !(err instanceof TunnelError)) throw err;
        throw new TunnelError(err.refusal, `${err.message} (tried before: ${failures.join('; ')})`, err.code, err.setting);
      }
      failures.push((err as TunnelError).message);
      onFallback?.(route, (err as TunnelError).message, next);
    }
  }
}
