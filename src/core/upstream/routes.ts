/**
 * The ways to the endpoint a PAC script or the system settings give: one
 * route (an HTTP proxy's URL, or DIRECT), the decision a caller makes per
 * dial, a PAC-style answer read into routes, and routes told as a person
 * reads them. Dialing through them in order is dial/proxyRoutes.ts.
 */
import type { Endpoint } from '../../shared/endpoint';
import { ProxyConfigError, type ProxySignInRules, displayProxy } from './upstreamProxy';
import { peerText } from '../tunnel/peerText';

/**
 * One way to the endpoint: an HTTP proxy's URL, `false` for a direct
 * connection, or a proxy's URL with the rules of what may be sent to sign in
 * to it (a bare URL has the defaults of a proxy the user named).
 */
export type ProxyRoute = string | false | RuledProxy;

/** A proxy's URL (credentials included, never to be shown) and what may be sent to sign in to it. */
export interface RuledProxy {
  url: string;
  rules: ProxySignInRules;
}

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
export function parsePacAnswer(answer: string, source = 'the system proxy setting'): Array<string | false> {
  const entries = answer
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) return [false];
  const routes: Array<string | false> = [];
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
    throw new ProxyConfigError('choose-proxy', `"${peerText(answer)}" has no HTTP proxy and no DIRECT: WSSH cannot use SOCKS to reach its endpoint`, source);
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
  const url = typeof route === 'string' ? route : route.url;
  try {
    return displayProxy(new URL(url));
  } catch {
    // Not a URL: a PAC script's or the system's answer as it was written.
    return peerText(url.replace(/\/\/[^@/]*@/, '//***@'));
  }
}
