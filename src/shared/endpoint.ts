/**
 * WSSH endpoint URIs: `ws://` or `wss://`, a host, an optional path prefix and
 * optional `user:secret@` userinfo.
 *
 *   wss://gw.example.com/ssh          the endpoint
 *   wss://gw.example.com/ssh/db1.lan  the tunnel to db1.lan:22
 *   wss://gw.example.com/ssh/db1.lan%3A2222   the tunnel to db1.lan:2222
 *
 * The userinfo is sent as HTTP Basic auth on the upgrade request. It is kept
 * apart from the URL everywhere else, so that logging an endpoint (its
 * `display`) can never leak the secret.
 *
 * Pure string handling that runs in Node and in the page (the editor checks a
 * URI as it is typed with this same parser).
 */
import { canonicalIPv6, isIPv4, isIPv6 } from './ipAddress';
import { Target, TargetError, formatTarget, parseTarget } from './target';

export interface Credentials {
  user: string;
  secret: string;
}

export interface Endpoint {
  /** `ws:` or `wss:` URL without userinfo, query or fragment; pathname has no trailing slash. */
  readonly url: string;
  readonly secure: boolean;
  /** Credentials from the userinfo, if any. Never log them. */
  readonly credentials?: Credentials;
  /** The URL as shown to people and written to logs: never holds the secret. */
  readonly display: string;
}

export class EndpointError extends Error {
  override name = 'EndpointError';
}

const EXAMPLE = 'e.g. wss://gw.example.com/ssh';

/**
 * Parses and validates an endpoint URI. Throws EndpointError with a message
 * that says what is wrong, fit to show under an input field.
 */
export function parseEndpoint(text: string): Endpoint {
  const input = text.trim();
  if (input === '') throw new EndpointError(`the endpoint is empty (${EXAMPLE})`);
  if (/\s/.test(input)) throw new EndpointError('the endpoint must not contain spaces');

  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(input);
  if (!scheme) throw new EndpointError(`the endpoint must start with ws:// or wss:// (${EXAMPLE})`);
  const protocol = scheme[1].toLowerCase();
  if (protocol === 'http' || protocol === 'https') {
    const suggested = protocol === 'https' ? 'wss' : 'ws';
    throw new EndpointError(`use ${suggested}:// instead of ${protocol}:// (WSSH speaks WebSocket)`);
  }
  if (protocol !== 'ws' && protocol !== 'wss') {
    throw new EndpointError(`unsupported scheme "${protocol}:": use ws:// or wss://`);
  }
  if (!input.slice(scheme[0].length).startsWith('//')) {
    throw new EndpointError(`"${protocol}:" must be followed by // and a host (${EXAMPLE})`);
  }

  // Checked before URL parsing, which would only say "Invalid URL".
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(input)![1];
  // An "@" after the authority: a user or secret with "/", "?" or "#" in it,
  // which would otherwise be read as host and path, and quoted in the errors
  // below. Refused whether or not the authority has an "@" too: the secret
  // may hold one ("wss://u:p@ss/w@gw"), and a path with "@" would make a URL
  // this parser then refuses to read back (found by fuzzing).
  if (input.slice(scheme[0].length + 2 + authority.length).includes('@')) {
    throw new EndpointError('an "@" after the host: if the user or secret holds "/", "?" or "#", %-escape them (%2F, %3F, %23); in the path, write "@" as %40');
  }
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  if (hostPort === '') throw new EndpointError(`the endpoint has no host (${EXAMPLE})`);
  const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPort)?.[1];
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && +port >= 1 && +port <= 65535)) {
    throw new EndpointError(`port "${port}" is not a number from 1 to 65535`);
  }

  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new EndpointError(`"${hostPort}" is not a valid host name`);
  }
  if (url.search !== '') throw new EndpointError('the endpoint must not have a query (?…)');
  if (url.hash !== '') throw new EndpointError('the endpoint must not have a fragment (#…)');

  let credentials: Credentials | undefined;
  if (url.username !== '' || url.password !== '') {
    try {
      credentials = { user: decodeURIComponent(url.username), secret: decodeURIComponent(url.password) };
    } catch {
      throw new EndpointError('the user or secret has a broken %-escape');
    }
    if (credentials.user === '') throw new EndpointError('a secret was given without a user name');
    url.username = '';
    url.password = '';
  }
  const path = url.pathname.replace(/\/+$/, '');
  const clean = `${url.protocol}//${url.host}${path}`;
  return {
    url: clean,
    secure: url.protocol === 'wss:',
    credentials,
    display: credentials ? `${url.protocol}//${encodeURIComponent(credentials.user)}:***@${url.host}${path}` : clean,
  };
}

/**
 * `text` (a URI as typed: an endpoint, a proxy URL) with everything between
 * `//` and the last `@` replaced by `***`, for error messages: the secret may
 * hold "/" or "@" unescaped, so no narrower pattern is safe.
 */
export function redactUserinfo(text: string): string {
  return text.replace(/\/\/.*@/s, '//***@');
}

/** The URL of the tunnel to `target` through `endpoint` (see the wire contract). */
export function tunnelUrl(endpoint: Endpoint, target: Target): string {
  return `${endpoint.url}/${encodeURIComponent(formatTarget(target))}`;
}

/** The `Authorization` header for the endpoint's credentials, if it has any. */
export function authorizationHeader(credentials: Credentials | undefined): string | undefined {
  if (!credentials) return undefined;
  // RFC 7617: the user-pass is UTF-8 before base64. btoa() takes one char per
  // byte, so the UTF-8 bytes go through as Latin-1 code points (no Buffer:
  // this module also runs in the page).
  let latin1 = '';
  for (const byte of new TextEncoder().encode(`${credentials.user}:${credentials.secret}`)) latin1 += String.fromCharCode(byte);
  return 'Basic ' + btoa(latin1);
}

/**
 * Splits a full tunnel URI (`wss://gw/ssh/db1.lan`, as given to `wssh client`)
 * into its endpoint and its target, the last path segment.
 */
export function parseTunnelUri(text: string): { endpoint: Endpoint; target: Target } {
  const endpoint = parseEndpoint(text);
  const slash = endpoint.url.lastIndexOf('/');
  const segment = endpoint.url.slice(slash + 1);
  if (slash < endpoint.url.indexOf('//') + 2 || segment === '') {
    throw new EndpointError(`the URI names no target host: add it as the last path segment (${EXAMPLE}/HOST)`);
  }
  let target: Target;
  try {
    target = parseTarget(decodeURIComponent(segment));
  } catch (err) {
    if (err instanceof TargetError) throw new EndpointError(`bad target in the URI: ${err.message}`);
    throw new EndpointError(`the target "${segment}" has a broken %-escape`);
  }
  const prefix = endpoint.url.slice(0, slash);
  const displayPrefix = endpoint.display.slice(0, endpoint.display.lastIndexOf('/'));
  return { endpoint: { ...endpoint, url: prefix, display: displayPrefix }, target };
}

/**
 * Whether `host` (a name or an address, IPv6 with or without brackets) is
 * this machine's loopback: `localhost` and its subdomains (RFC 6761 §6.3),
 * 127.0.0.0/8, and ::1 or an IPv4-mapped 127.x.y.z however the IPv6 is
 * spelled. The one check for every warning and trust decision that hangs on
 * "only this machine": a name that merely starts with "127." (a DNS name
 * like `127.evil.example`) is not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIPv4(h)) return h.startsWith('127.');
  // A zone (`::1%lo`) names an interface: not an address to compare.
  if (!isIPv6(h) || h.includes('%')) return false;
  const canonical = canonicalIPv6(h);
  return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
}

/**
 * A warning when `endpoint` sends its credentials in the clear: Basic auth
 * over plain ws:// to another machine is readable by anyone on the path.
 */
export function plainCredentialsWarning(endpoint: Endpoint): string | undefined {
  if (endpoint.secure || !endpoint.credentials) return undefined;
  const host = new URL(endpoint.url).hostname;
  if (isLoopbackHost(host)) return undefined;
  return `the secret of ${endpoint.display} goes to ${host} unencrypted (ws://): anyone on the network path can read it; use wss://`;
}
