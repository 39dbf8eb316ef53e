/**
 * The one plan from an endpoint's settings to its dials, for every front end:
 * the CLI's flags (src/cli/proxyChoice.ts, options.ts), the tray app's saved
 * settings (src/main/settings/endpointOptions.ts), and a profile (profile.ts,
 * whose proxy mode is the app's ProxySetting). Each maps its own input into
 * EndpointSettings; the plan gives back the options the dialer takes and the
 * proxy resolver asked before each dial, and it says in one place what a
 * person reads when a proxy cannot be reached and the next route is tried.
 *
 * Reading files (a CA file, a client certificate) and checking what the user
 * typed stay with the front ends: their messages name their own inputs
 * (`--ca "FILE"`, the editor's "CA file", `trust.pins[1]`).
 */
import type { Endpoint } from '../../shared/endpoint';
import type { ProxySetting } from '../../shared/endpointSettings';
import { TunnelError } from '../tunnel/tunnelError';
import type { PacScript } from '../upstream/pacScript';
import { ProxyDecision, ProxyRoute, describeRoute, parsePacAnswer, proxyQueryUrl } from '../upstream/routes';
import { ProxyResolver, SystemProxy, pacRoutes } from '../upstream/systemProxy';
import { ProxyConfigError, type ProxySignInRules, UNUSABLE_PROXY_SETTING } from '../upstream/upstreamProxy';
import type { DialOptions } from './dialer';
import type { RoutedDialOptions } from './proxyRoutes';
import type { TrustOptions } from './trust/trust';

/**
 * The system's proxy for a URL as a PAC-style answer (`PROXY host:port;
 * DIRECT`): the shape of Electron's `session.defaultSession.resolveProxy`.
 */
export type SystemProxyAnswer = (url: string) => Promise<string>;

/**
 * How to sign in to the HTTP proxy, the password in clear (never logged).
 * `clearBasic`: a `DOMAIN\\user` password may go as Basic over plain http://
 * (ProxySignInRules.clearBasicForDomainUser).
 */
export type ProxySignIn = { mode: 'windows' } | { mode: 'password'; user: string; secret: string; clearBasic?: boolean };

/** Where the proxy (or the routes) for a dial come from. */
export type ProxySource =
  /** A direct connection, whatever the environment says (`--no-proxy`, the app's "None"). */
  | { kind: 'none' }
  /**
   * That HTTP proxy (`--proxy URL`, the app's "Custom URL", a profile's).
   * `windowsSignIn`: the user's Windows sign-in may go to it; false for a
   * proxy a profile brought that the user has not approved. @default true
   */
  | { kind: 'url'; url: string; windowsSignIn?: boolean }
  /** HTTPS_PROXY for wss://, HTTP_PROXY for ws://, unless NO_PROXY names the endpoint's host. */
  | { kind: 'environment' }
  /** What a loaded PAC script says, per endpoint (`--pac`). */
  | { kind: 'pac'; script: PacScript }
  /** The user's Internet Settings read from the registry (`--proxy system`; the environment off Windows). */
  | { kind: 'system'; registry: SystemProxy }
  /** The system's answer for the endpoint's URL, every entry in order (the app: Electron's resolver). */
  | { kind: 'system'; ask: SystemProxyAnswer };

/** An endpoint's settings, whichever front end read them. */
export interface EndpointSettings {
  /**
   * Where each dial's proxy comes from. A function is asked at each dial:
   * the tray app's active endpoint may change while its proxy runs.
   */
  proxy: ProxySource | (() => ProxySource);
  /**
   * The sign-in to the proxy: a password one goes into each proxy URL (as
   * Basic before the 407 only to the proxy the user named); the Windows one
   * adds nothing (the core signs in as the user).
   */
  proxySignIn?: ProxySignIn | (() => ProxySignIn | undefined);
  /** What may be sent to any proxy where the source says nothing (`--proxy-clear-basic`). */
  proxyRules?: ProxySignInRules;
  /** The TLS trust, files already read: CAs as PEM, pins, the client certificate. */
  trust?: TrustOptions;
  /** How long the proxy, TCP connect, TLS and upgrade together may take. @default the dialer's */
  handshakeTimeoutMs?: number;
  /** The WebSocket ping interval of each tunnel's relay, in ms; 0 turns pings off. @default the relay's */
  keepaliveMs?: number;
  /**
   * Hears what a person should know: a route skipped for the next one, and
   * that Negotiate to the proxy is off. Without it nothing is said of a
   * skipped route, and the dialer writes its note to stderr.
   */
  log?: (line: string) => void;
  /**
   * What a direct connection is called where the fallback line says it is
   * tried next. @default 'DIRECT' (the word of a PAC answer)
   */
  direct?: string;
}

/** What the dials of one endpoint take. */
export interface EndpointPlan {
  /** For dialRoutes or the local proxy (ConnectProxy), the proxy left to `resolveProxy`. */
  dial: Omit<RoutedDialOptions, 'proxy'>;
  /** Decides the route or routes for each dial. @throws {TunnelError} PROXY_CONFIG for a setting that gives nothing usable. */
  resolveProxy: ProxyResolver;
  /** For the relay of each tunnel (the local proxy's, or `wssh client`'s); undefined for its default. */
  keepaliveMs?: number;
}

/** The plan for an endpoint's dials. */
export function planDial(settings: EndpointSettings): EndpointPlan {
  const dial: EndpointPlan['dial'] = { ...dialTrust(settings.trust) };
  if (settings.handshakeTimeoutMs !== undefined) dial.handshakeTimeoutMs = settings.handshakeTimeoutMs;
  if (settings.proxyRules !== undefined) dial.proxyRules = settings.proxyRules;
  const log = settings.log;
  if (log) {
    dial.log = log;
    dial.onFallback = (failed, reason, next) => log(fallbackLine(failed, reason, next, settings.direct));
  }
  const current = <T>(value: T | (() => T)): T => (typeof value === 'function' ? (value as () => T)() : value);
  return {
    dial,
    resolveProxy: (endpoint) => proxyResolver(current(settings.proxy), current(settings.proxySignIn))(endpoint),
    keepaliveMs: settings.keepaliveMs,
  };
}

/** The trust as the dialer takes it: only what is set. */
function dialTrust(trust: TrustOptions = {}): Partial<DialOptions> {
  const out: Partial<DialOptions> = {};
  for (const [key, value] of Object.entries(trust) as [keyof TrustOptions, unknown][]) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/**
 * The line for a route that could not be reached when the next one is tried:
 * the reason, what is tried now, what was skipped. Credentials show as `***`.
 */
export function fallbackLine(failed: ProxyRoute, reason: string, next: ProxyRoute, direct = 'DIRECT'): string {
  return `${reason}; trying ${next === false ? direct : `the next proxy, ${describeRoute(next)}`} (${describeRoute(failed)} skipped)`;
}

/**
 * The decision for each dial from one proxy source, with the sign-in put into
 * each proxy URL and the rules of what may be sent there: the proxy the user
 * named gets the password before it asks; one a PAC script or the system
 * settings chose gets it only once it asked (a 407); the user's Windows
 * sign-in goes to every proxy but a profile's the user has not approved.
 */
export function proxyResolver(source: ProxySource, signIn?: ProxySignIn): ProxyResolver {
  const password = signIn?.mode === 'password';
  const clear: ProxySignInRules = password && signIn.clearBasic ? { clearBasicForDomainUser: true } : {};
  const signed = (route: ProxyRoute) => ruled(withProxyCredentials(route, signIn), { ...clear, ...(password && { preemptiveBasic: false }) });
  switch (source.kind) {
    case 'none':
      return async () => false;
    case 'url':
      return async () => ruled(withProxyCredentials(source.url, signIn), { ...clear, ...(source.windowsSignIn === false && { windows: false }) });
    case 'environment':
      return async () => undefined;
    case 'pac':
      return async (endpoint) => signedDecision(await pacRoutes(source.script, endpoint), signed);
    case 'system':
      if ('registry' in source) return async (endpoint) => signedDecision(await source.registry.resolve(endpoint), signed);
      return (endpoint) => askSystem(source.ask, endpoint, signed);
  }
}

/**
 * The app's (and a profile's) proxy mode as a source: 'system' asks `ask`,
 * and without one (outside Electron) the environment applies. `windowsSignIn`
 * says whether a custom proxy may get the user's Windows sign-in.
 */
export function proxySourceOf(setting: ProxySetting, ask?: SystemProxyAnswer, windowsSignIn?: boolean): ProxySource {
  if (setting === 'none') return { kind: 'none' };
  if (typeof setting === 'object') return windowsSignIn === undefined ? { kind: 'url', url: setting.url } : { kind: 'url', url: setting.url, windowsSignIn };
  return ask ? { kind: 'system', ask } : { kind: 'environment' };
}

async function askSystem(ask: SystemProxyAnswer, endpoint: Endpoint, signed: (route: ProxyRoute) => ProxyRoute): Promise<ProxyDecision> {
  let answer: string;
  try {
    answer = await ask(proxyQueryUrl(endpoint));
  } catch (err) {
    throw new TunnelError('proxy-config', `cannot read the system proxy settings: ${(err as Error).message}`, {
      code: 'PROXY_CONFIG',
      setting: UNUSABLE_PROXY_SETTING,
      cause: err,
    });
  }
  try {
    return parsePacAnswer(answer).map(signed);
  } catch (err) {
    if (err instanceof ProxyConfigError) throw TunnelError.fromConfig('proxy-config', err);
    throw err;
  }
}

function signedDecision(decision: ProxyDecision, signed: (route: ProxyRoute) => ProxyRoute): ProxyDecision {
  if (decision === undefined) return undefined;
  return Array.isArray(decision) ? decision.map(signed) : signed(decision);
}

/** A route with `rules`; a bare URL when there are none (a proxy the user named: the defaults). */
function ruled(route: ProxyRoute, rules: ProxySignInRules): ProxyRoute {
  if (route === false || Object.keys(rules).length === 0) return route;
  return typeof route === 'string' ? { url: route, rules } : { url: route.url, rules: { ...route.rules, ...rules } };
}

/** A proxy URL with the sign-in's user and password in it, as the dialer takes them (`DOMAIN%5Cuser`); a URL that has its own is left as it is. */
export function withProxyCredentials(route: ProxyRoute, signIn: ProxySignIn | undefined): ProxyRoute {
  if (route === false || !signIn || signIn.mode !== 'password') return route;
  if (typeof route === 'object') return { url: withProxyCredentials(route.url, signIn) as string, rules: route.rules };
  const url = new URL(route);
  if (url.username || url.password) return route;
  url.username = encodeURIComponent(signIn.user);
  url.password = encodeURIComponent(signIn.secret);
  return url.href.replace(/\/$/, '');
}
