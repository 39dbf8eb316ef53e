/**
 * The HTTP proxy between this machine and the endpoint, in a network that
 * lets nothing out directly: which one (if any) a dial uses, how it is shown,
 * and what its refusals mean.
 *
 * The tunnel always goes through the proxy with CONNECT, for ws:// as for
 * wss://: a proxy that forwarded a plain GET would drop or mangle the
 * `Upgrade` that a WebSocket needs, whereas a CONNECT tunnel carries the
 * bytes as they are.
 *
 * Where the proxy comes from, first match wins:
 * 1. per dial, from the caller: a URL, or `false` for none (the CLI's
 *    `--proxy URL` / `--no-proxy`; the tray app's system proxy, resolved by
 *    Electron, PAC included, or a PAC script's: a list tried in order, see
 *    proxyRoutes.ts);
 * 2. the environment, as curl reads it: `https_proxy`/`HTTPS_PROXY` for
 *    wss://, `http_proxy`/`HTTP_PROXY` for ws://, `all_proxy` for both, unless
 *    `no_proxy`/`NO_PROXY` names the endpoint's host (the `proxy-from-env`
 *    library applies these rules).
 *
 * A proxy URL is `http://[user:password@]host[:port]` (port 80 by default;
 * `https://` for a proxy that speaks TLS itself). Its credentials are never
 * shown: `display` has `***`. A Windows user is written `DOMAIN\user`,
 * percent-encoded in the URL: `http://CORP%5Calice:PASSWORD@proxy:3128`.
 * How they are used (Negotiate, NTLM, Basic, as the proxy asks): proxyTunnel.ts.
 */
import { getProxyForUrl } from 'proxy-from-env';
import { redactUserinfo, type Endpoint } from '../../shared/endpoint';
import type { RefusalCode } from '../tunnel/refusals';
import { ConfigError, type ConfigHint, type ConfigProblem } from '../tunnel/configErrors';
import { peerText } from '../tunnel/peerText';

export interface UpstreamProxy {
  /** The proxy's URL, credentials included: for the connection only, never to be logged. */
  readonly url: URL;
  /** The URL as shown to people: `http://user:***@proxy:3128`. */
  readonly display: string;
  /** Where the setting came from: `option`, or the environment variable's name. */
  readonly source: string;
}

/**
 * A proxy setting that cannot work: the user's input (hint `fix-value`), or
 * the setting of the environment, the system or a PAC script (`choose-proxy`).
 */
export class ProxyConfigError extends ConfigError {
  override name = 'ProxyConfigError';
  constructor(hint: ConfigHint, detail: string, subject?: string) {
    super('proxy', hint, detail, subject);
  }
}

/** What a proxy setting that could not be read or gave nothing carries to the front ends (on its TunnelError). */
export const UNUSABLE_PROXY_SETTING: ConfigProblem = { field: 'proxy', hint: 'choose-proxy' };

/** The schemes WSSH signs in to a proxy with, strongest first. */
export type ProxyAuthScheme = 'Negotiate' | 'NTLM' | 'Basic';

/**
 * What may be sent to sign in to one proxy, by who chose that proxy (issue
 * 24: a secret goes only where the user agreed to send it). A proxy the user
 * named (`--proxy URL`, the app's custom URL saved with its password) has the
 * defaults; the plan (dial/endpointPlan.ts) narrows them for the others.
 */
export interface ProxySignInRules {
  /**
   * Negotiate with the user's own sign-in (SSPI's logon session on Windows,
   * which falls back to NTLM where the proxy has no Kerberos key; a ticket
   * elsewhere): only for a proxy the system's settings, the environment or
   * the user chose, never for one a profile brought until the user approves
   * it. @default true
   */
  windows?: boolean;
  /**
   * The URL's user and password as Basic in the first CONNECT, before the
   * proxy asks: only for the proxy the user named with them, not for one a
   * PAC script or the system settings chose (those get them after a 407).
   * @default true
   */
  preemptiveBasic?: boolean;
  /**
   * A `DOMAIN\user` (Windows) password as Basic over plain http://, where
   * the proxy asks for Basic and nothing stronger works: anyone on the way
   * reads it, and an attacker on the path can strip the other schemes from
   * the 407. Only when the user chose so. @default false
   */
  clearBasicForDomainUser?: boolean;
}

/** The rules in full, for a proxy the user named. */
export const DEFAULT_SIGN_IN_RULES: Required<ProxySignInRules> = { windows: true, preemptiveBasic: true, clearBasicForDomainUser: false };

/** Why a scheme was held back by the rules: the front ends say where the user allows it. */
export type WithheldSignIn = 'windows-sign-in' | 'clear-basic';

/** One scheme WSSH tried, or could not try, against a proxy's 407. */
export interface ProxyAuthAttempt {
  scheme: ProxyAuthScheme;
  /** true: sent, and the proxy said no; false: not sent, for `reason`. */
  refused: boolean;
  /** Not sent because the rules for this proxy hold it back (ProxySignInRules). */
  withheld?: WithheldSignIn;
  /** Why it was not sent (`no credentials`, `no Kerberos ticket (…)`), or what broke it; in the user's terms. */
  reason?: string;
  /** What GSSAPI/SSPI said, for a Kerberos-savvy reader. */
  detail?: string;
  /** The user whose credentials were sent (`CORP\alice`); never the password. */
  user?: string;
}

/** What a 407 offered and what became of each scheme. */
export interface ProxyAuthOutcome {
  /** The schemes of its challenges, in its order: `Negotiate`, `NTLM`, `Basic`, or others as written (`Digest`). */
  offered: string[];
  attempts: ProxyAuthAttempt[];
}

/** The proxy answered CONNECT with something other than 200. */
export class ProxyRefusal extends Error {
  override name = 'ProxyRefusal';
  constructor(
    readonly status: number,
    readonly statusText: string,
    /** For a 407: what the proxy offered and what was tried. */
    readonly auth?: ProxyAuthOutcome,
  ) {
    super(`${status} ${statusText}`.trim());
  }
}

/**
 * Parses a proxy URL; `source` names where it came from, for the message.
 *
 * @throws {ProxyConfigError}
 */
export function parseProxyUrl(text: string, source = 'option'): UpstreamProxy {
  const input = text.trim();
  const where = source === 'option' ? 'proxy' : source;
  // The user's own value is to be corrected; one from elsewhere may be replaced by the user's.
  const hint: ConfigHint = source === 'option' ? 'fix-value' : 'choose-proxy';
  const refuse = (detail: string) => new ProxyConfigError(hint, detail, where);
  // A bare host:port means http:// (curl, wget and most tools read it so).
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `http://${input}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw refuse(`"${redact(input)}" is not a URL (e.g. http://proxy.example.com:3128)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refuse(`"${redact(input)}": only HTTP proxies (http:// or https://) can reach the endpoint, not ${url.protocol}//`);
  }
  if (url.hostname === '') throw refuse(`"${redact(input)}" has no host`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw refuse(`"${redact(input)}": a proxy URL is scheme, host and port only`);
  }
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    throw refuse(`"${redact(input)}": the user or password has a broken %-escape`);
  }
  return { url, display: displayProxy(url), source };
}

/** A proxy URL fit for a log line: the password (and a user alone) as `***`. */
export function displayProxy(url: URL): string {
  const auth = url.username || url.password ? `${url.username || '***'}:***@` : '';
  return `${url.protocol}//${auth}${url.host}`;
}

/**
 * The proxy a dial to `endpoint` goes through: `setting` when the caller gave
 * one (a URL, or `false` for none), else the environment's. Undefined means
 * a direct connection.
 *
 * @throws {ProxyConfigError}
 */
export function resolveProxy(endpoint: Endpoint, setting?: string | false, env: NodeJS.ProcessEnv = process.env): UpstreamProxy | undefined {
  if (setting === false) return undefined;
  if (setting !== undefined && setting.trim() !== '') return parseProxyUrl(setting);
  return proxyFromEnvironment(endpoint, env);
}

/**
 * The environment's proxy for `endpoint`, or undefined (none set, or
 * NO_PROXY names the host).
 *
 * proxy-from-env picks the variable by the URL's scheme, so the endpoint is
 * asked about as the https:// (wss) or http:// (ws) URL it is to a proxy.
 * It reads `process.env`; other environments are for tests.
 */
function proxyFromEnvironment(endpoint: Endpoint, env: NodeJS.ProcessEnv = process.env): UpstreamProxy | undefined {
  const asHttp = endpoint.url.replace(/^ws/, 'http');
  const found = env === process.env ? getProxyForUrl(asHttp) : withEnvironment(env, () => getProxyForUrl(asHttp));
  if (!found) return undefined;
  const scheme = endpoint.secure ? 'https' : 'http';
  const names = [`${scheme}_proxy`, `${scheme.toUpperCase()}_PROXY`, 'all_proxy', 'ALL_PROXY'];
  const source = names.find((name) => env[name] && found.endsWith(env[name]!)) ?? `${scheme.toUpperCase()}_PROXY`;
  // The variable's own value: for one without a scheme, proxy-from-env puts
  // the endpoint's in front ("https://" for wss), which would mean TLS to the
  // proxy. parseProxyUrl reads it as http://, as curl does.
  return parseProxyUrl(env[source] ?? found, source);
}

/** A failure on the way through the proxy: its refusal code and the reason in words. */
export interface ProxyFailure {
  refusal: Extract<RefusalCode, 'proxy-refused' | 'proxy-timeout' | 'proxy-unreachable'>;
  message: string;
  /** The setting that held back the sign-in the proxy wanted, when nothing else was refused. */
  setting?: ConfigProblem;
}

/**
 * A refusal by the proxy, in words. `proxy` is the proxy as shown, `endpoint`
 * the endpoint it was asked to reach. The refusal code (refusals.ts) tells
 * the local proxy's answer: 504 for the proxy's own timeout, 502 for the rest.
 */
export function proxyRefusalMessage(refusal: ProxyRefusal, proxy: UpstreamProxy, endpointHost: string): ProxyFailure {
  const said = refusal.message;
  const at = `the HTTP proxy at ${proxy.display}`;
  switch (refusal.status) {
    // 407 is the proxy's "who are you"; some (tinyproxy) answer wrong credentials with 401.
    case 401:
    case 407: {
      const withheld = refusal.auth && withheldMessage(refusal.auth, at, said);
      if (withheld) return { refusal: 'proxy-refused', ...withheld };
      const signIn = refusal.auth && proxyAuthMessage(refusal.auth, at, said);
      if (signIn) return { refusal: 'proxy-refused', message: signIn };
      const user = proxy.url.username ? decodeURIComponent(proxy.url.username) : '';
      return {
        refusal: 'proxy-refused',
        message: user
          ? `${at} refused the credentials of "${user}" (${said}): check the user and password`
          : `${at} requires authentication (${said}): give it as http://USER:PASSWORD@host:port`,
      };
    }
    case 403:
      return { refusal: 'proxy-refused', message: `${at} refused to connect to ${endpointHost} (${said}): it may not allow CONNECT to that host or port` };
    case 504:
      return { refusal: 'proxy-timeout', message: `${at} timed out reaching ${endpointHost} (${said})` };
    default:
      if (refusal.status >= 500) return { refusal: 'proxy-refused', message: `${at} could not reach ${endpointHost} (${said})` };
      return { refusal: 'proxy-refused', message: `${at} refused the tunnel to ${endpointHost} (${said})` };
  }
}

const NTLM_ADVICE = 'give DOMAIN\\user and password as http://DOMAIN%5Cuser:PASSWORD@host:port';

/**
 * A 407 that nothing was refused at, because the rules for this proxy held
 * back what it asked for (ProxySignInRules): what was held back and why, and
 * the setting that allows it. Undefined when something was sent and refused.
 */
function withheldMessage(auth: ProxyAuthOutcome, at: string, said: string): { message: string; setting: ConfigProblem } | undefined {
  const first = auth.attempts.find((a) => a.withheld);
  if (!first || auth.attempts.some((a) => a.refused)) return undefined;
  const why = auth.attempts.map((a) => (a.withheld ? a.reason : `${a.scheme}: ${a.reason}`)).join('; ');
  const offered = auth.offered.length > 0 ? auth.offered : ['Basic'];
  const list = offered.length <= 1 ? offered.join('') : `${offered.slice(0, -1).join(', ')} or ${offered[offered.length - 1]}`;
  const hint: ConfigHint = first.withheld === 'windows-sign-in' ? 'approve-windows-sign-in' : 'allow-clear-basic';
  return { message: `${at} wants ${list} (${said}): ${why}`, setting: { field: 'proxySignIn', hint } };
}

/**
 * A 407 in words: what the proxy wants, what was tried, what to do. Undefined
 * where the Basic-only words of `proxyRefusalMessage` say it (a proxy that
 * offers Basic alone, or says nothing of what it takes).
 */
function proxyAuthMessage(auth: ProxyAuthOutcome, at: string, said: string): string | undefined {
  const offered = auth.offered;
  const known = offered.filter((s): s is ProxyAuthScheme => s === 'Negotiate' || s === 'NTLM' || s === 'Basic');
  if (offered.length === 0 || (known.length === 1 && known[0] === 'Basic' && offered.length === 1)) return undefined;
  const list = (names: string[]) => (names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`);
  const wants = `${at} wants ${list(offered)} (${said})`;
  if (known.length === 0) return `${wants}, and WSSH speaks only Negotiate, NTLM and Basic: ask for one of those, or use another proxy`;
  const refused = auth.attempts.filter((a) => a.refused);
  const skipped = auth.attempts.filter((a) => !a.refused);
  if (refused.length === 0) {
    // Nothing could be sent: say what each scheme lacked and how to give it.
    const needs = [known.includes('NTLM') || known.includes('Basic') ? 'credentials' : '', known.includes('Negotiate') ? 'Kerberos ticket' : ''].filter(
      Boolean,
    );
    const advice: string[] = [];
    const negotiate = skipped.find((a) => a.scheme === 'Negotiate');
    if (negotiate) advice.push(negotiate.reason!);
    if (known.includes('NTLM')) advice.push(known.includes('Negotiate') ? `or ${NTLM_ADVICE}` : NTLM_ADVICE);
    else if (known.includes('Basic')) advice.push(`${known.includes('Negotiate') ? 'or ' : ''}give the user and password as http://USER:PASSWORD@host:port`);
    // Negotiate alone: its reason says it all (no ticket, and what to do).
    if (known.length === 1 && negotiate) return `${wants}: ${negotiate.reason}`;
    return `${wants} and no ${needs.join(' or ')} ${needs.length > 1 || needs[0] === 'credentials' ? 'were' : 'was'} available: ${advice.join('; ')}`;
  }
  const last = refused[refused.length - 1];
  const before = auth.attempts.filter((a) => a !== last).map((a) => (a.refused ? `${a.scheme} refused too` : `${a.scheme}: ${a.reason}`));
  const also = ` (it offered ${list(offered)}${before.length ? `; ${before.join('; ')}` : ''})`;
  switch (last.scheme) {
    case 'Negotiate':
      return `${at} refused the Kerberos ticket sent with Negotiate (${said}): the proxy may not hold the key for its name, or trust this realm${also}`;
    case 'NTLM':
      if (last.reason) return `${at}: NTLM for ${last.user} failed: ${last.reason}${also}`;
      return `${at} refused ${last.user}'s NTLM credentials (${said}): check the domain, user and password (DOMAIN\\user, as http://DOMAIN%5Cuser:PASSWORD@host:port)${also}`;
    case 'Basic':
      return `${at} refused the credentials of "${last.user}" (${said}): check the user and password${also}`;
  }
}

/** A network error on the way to the proxy itself, in words. */
export function proxyConnectFailure(err: Error & { code?: string }, proxy: UpstreamProxy): ProxyFailure {
  const at = `the HTTP proxy at ${proxy.display}`;
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { refusal: 'proxy-unreachable', message: `cannot resolve the host of ${at} (${err.code})` };
    case 'ECONNREFUSED':
      return { refusal: 'proxy-unreachable', message: `connection refused by ${at}: is it running, and is the port right?` };
    case 'ECONNRESET':
      return { refusal: 'proxy-unreachable', message: `${at} reset the connection` };
    case 'ETIMEDOUT':
      return { refusal: 'proxy-timeout', message: `connection to ${at} timed out` };
  }
  return { refusal: 'proxy-unreachable', message: `cannot use ${at}: ${err.message}` };
}

/** A proxy setting as a message quotes it: credentials as `***`, escaped (it may be a PAC script's or the system's). */
function redact(text: string): string {
  return peerText(redactUserinfo(text));
}

/** Runs `fn` with process.env replaced by `env` (proxy-from-env only reads process.env). */
function withEnvironment<T>(env: NodeJS.ProcessEnv, fn: () => T): T {
  const saved = process.env;
  process.env = env;
  try {
    return fn();
  } finally {
    process.env = saved;
  }
}
