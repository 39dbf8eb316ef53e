/**
 * Opens the WebSocket of one tunnel: `<endpoint>/<target>`, with Basic auth
 * from the endpoint's credentials, through the HTTP proxy and with the TLS
 * trust the caller chose (upstreamProxy.ts, trust.ts, transport.ts).
 *
 * Every way this can fail becomes a TunnelError that carries its refusal code
 * (refusals.ts), hence the HTTP status the local proxy answers with (403
 * refused by the server, 502 unreachable or broken, 504 timed out), and a
 * one-line reason a person can act on: a
 * certificate problem says which one (expired, unknown issuer, name mismatch,
 * pin mismatch), a proxy's refusal says it was the proxy.
 */
import { logLineText, peerText } from '../tunnel/peerText';
import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { Endpoint, authorizationHeader, tunnelUrl } from '../../shared/endpoint';
import type { Target } from '../../shared/target';
import { PreparedTrust, TrustError, TrustOptions, certificateFailure, prepareTrust } from './trust/trust';
import { SystemCertificatesError } from './trust/systemCertificates';
import {
  ProxyConfigError,
  ProxyRefusal,
  type ProxySignInRules,
  UpstreamProxy,
  proxyConnectFailure,
  proxyRefusalMessage,
  resolveProxy,
} from '../upstream/upstreamProxy';
import type { ProxyRoute } from '../upstream/routes';
import { ProxyUnreachable, transportOptions, type ProxyStage } from './transport';
import { descriptorsMessage, outOfDescriptors } from '../inbound/descriptors';
import { REFUSALS, REFUSAL_HEADER, isRefusalCode, type RefusalCode } from '../tunnel/refusals';
import { REFUSED_CLIENT_CERTIFICATE, clientCertificateAlert, clientCertificatePage } from './trust/clientCertificate';
import { LEGACY_HOLD_MS, SERVER_MARK_HEADER, awaitLegacyVerdict } from './legacyServer';
import { TunnelError, type CertificateErrorCode, type ClientCertificateAlertCode } from '../tunnel/tunnelError';
import type { DialEvent, DialTrace } from './dialTrace';

export interface DialOptions extends TrustOptions {
  /**
   * The HTTP proxy to reach the endpoint through, `http://[user:password@]host:port`;
   * `false` for none. Undefined: from the environment (HTTPS_PROXY for wss://,
   * HTTP_PROXY for ws://, unless NO_PROXY names the host). A caller that
   * resolves the proxy itself (the tray app, from the system settings) passes
   * its answer here, per dial; with the rules of signing in to it, when they
   * are not those of a proxy the user named.
   */
  proxy?: ProxyRoute;
  /**
   * What may be sent to sign in to the proxy, where the route does not say
   * (the environment's proxy, a bare URL): `--proxy-clear-basic`.
   * @default DEFAULT_SIGN_IN_RULES
   */
  proxyRules?: ProxySignInRules;
  /** How long the proxy, TCP connect, TLS and upgrade together may take. @default 15000 */
  handshakeTimeoutMs?: number;
  /** Largest incoming WebSocket message accepted. @default 1048576 (1 MiB; our peers send frames of at most 64 KiB) */
  maxPayload?: number;
  /** Abandons the dial, e.g. when the client that asked for the tunnel went away. */
  signal?: AbortSignal;
  /**
   * Hears what a person should know once about signing in to the proxy: that
   * Negotiate (Kerberos) is off because the `kerberos` module did not load,
   * and why. Never a secret. @default a `wssh: …` line on stderr
   */
  log?: (line: string) => void;
  /**
   * For a server whose upgrade response lacks the `WSSH-Server` mark (an
   * original wssh server, which reports a refusal only after the upgrade):
   * how long to wait for the first frame before the tunnel counts as open
   * (legacyServer.ts). @default LEGACY_HOLD_MS (4000)
   */
  legacyHoldMs?: number;
  /** More request headers for the upgrade (a resume's, resumeProtocol.ts). */
  headers?: Record<string, string>;
  /** Hears the server's 101 (its headers: a resume offer), before the dial resolves. */
  onUpgrade?: (response: IncomingMessage) => void;
  /** Hears each step of the way as it happens (dialTrace.ts): for `wssh doctor` and the app's Diagnose. */
  trace?: DialTrace;
}

const stderrLine = (line: string) => void process.stderr.write(`wssh: ${logLineText(line)}\n`);

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * Opens the tunnel's WebSocket; resolves once it is open, *paused*: frames
 * that came with the upgrade response (an old server's error text, the SSH
 * banner) would otherwise be emitted before the caller's listeners are on.
 * The Relay resumes it. From a server without the `WSSH-Server` mark it
 * resolves only at the first binary frame (or after the hold), and a text
 * frame or a close before that is a TunnelError with the server's text.
 */
export async function dial(endpoint: Endpoint, target: Target, options: DialOptions = {}): Promise<WebSocket> {
  let proxy: UpstreamProxy | undefined;
  let trust: PreparedTrust | undefined;
  const route = options.proxy;
  const rules = typeof route === 'object' ? { ...options.proxyRules, ...route.rules } : options.proxyRules;
  try {
    proxy = resolveProxy(endpoint, typeof route === 'object' ? route.url : route);
    if (endpoint.secure) trust = await prepareTrust(options, endpointHost(endpoint));
  } catch (err) {
    if (err instanceof ProxyConfigError) throw TunnelError.fromConfig('proxy-config', err);
    if (err instanceof TrustError || err instanceof SystemCertificatesError) throw TunnelError.fromConfig('trust-config', err);
    throw err;
  }
  if (options.signal?.aborted) throw new TunnelError('client-gone', REFUSALS['client-gone'].message);
  return open(endpoint, target, { ...options, proxyRules: rules }, proxy, trust);
}

/** `options.proxyRules` are the rules for `proxy`, route and defaults merged. */
function open(
  endpoint: Endpoint,
  target: Target,
  options: DialOptions,
  proxy: UpstreamProxy | undefined,
  trust: PreparedTrust | undefined,
): Promise<WebSocket> {
  const url = tunnelUrl(endpoint, target);
  const auth = authorizationHeader(endpoint.credentials);
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  // Aborts whatever is half made (the connection to the proxy, a TLS
  // handshake) when the dial fails; never after it succeeded.
  const connecting = new AbortController();
  let proxyStage: ProxyStage | 'connecting' = 'connecting';
  const ws = new WebSocket(url, {
    // SSH is encrypted, so compression would cost CPU for nothing.
    perMessageDeflate: false,
    handshakeTimeout: timeoutMs,
    maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    headers: auth || options.headers ? { ...options.headers, ...(auth && { Authorization: auth }) } : undefined,
    followRedirects: false,
    ...(trust?.tls as object),
    ...transportOptions({
      trust,
      proxy,
      rules: options.proxyRules,
      signal: connecting.signal,
      log: options.log ?? stderrLine,
      onProxyStage: (stage) => (proxyStage = stage),
      trace: options.trace,
    }),
  });

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: TunnelError) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      ws.removeAllListeners('open');
      ws.on('error', () => {}); // errors after the verdict are consequences
      ws.terminate();
      connecting.abort();
      reject(err);
    };
    const onAbort = () => fail(new TunnelError('client-gone', REFUSALS['client-gone'].message));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // ws's handshakeTimeout starts only once it has a socket; this one covers
    // the proxy and the TLS handshake too, and says which part it was. A
    // proxy that could not be connected to, or took the connection and never
    // answered, is the proxy's silence (PROXY_TIMEOUT): a PAC answer's next
    // proxy is tried (proxyRoutes.ts). One that asked who we are has
    // answered: its sign-in is what did not finish, and no other route is tried.
    const deadline = setTimeout(() => fail(handshakeTimeout(endpoint, proxy, proxyStage, timeoutMs)), timeoutMs);

    let marked = false;
    ws.once('upgrade', (res: IncomingMessage) => (marked = serverMarked(res, options)));
    const opened = () => {
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      resolve(ws);
    };
    ws.once('open', () => {
      if (settled) return;
      clearTimeout(deadline);
      ws.pause();
      ws.removeAllListeners('unexpected-response');
      if (marked) return opened();
      // The client's abort still ends the wait; the handshake deadline is over.
      awaitLegacyVerdict(ws, options.legacyHoldMs ?? LEGACY_HOLD_MS).then((verdict) => {
        if (settled) return;
        if (verdict.kind === 'open') opened();
        else fail(new TunnelError(verdict.refusal, verdict.reason, { code: 'LEGACY_REFUSAL' }));
      });
    });
    ws.once('unexpected-response', (_req, res) => {
      readReason(res).then(({ line, text }) => {
        options.trace?.(refusedEvent(res, line));
        const certificate = res.statusCode === 400 ? clientCertificatePage(text, endpoint.display, options.clientCertificate?.source) : undefined;
        fail(
          certificate
            ? new TunnelError('client-certificate', certificate, { code: 'CLIENT_CERTIFICATE', setting: REFUSED_CLIENT_CERTIFICATE })
            : refusal(endpoint, res.statusCode ?? 0, res.statusMessage, line, res.headers[REFUSAL_HEADER.toLowerCase()]),
        );
      });
    });
    ws.once('error', (err) => {
      const certificate = clientCertificateAlert(err, endpoint.display, options.clientCertificate?.source);
      // clientCertificateAlert names only the alerts of ClientCertificateAlertCode.
      const code = (err as Error & { code?: ClientCertificateAlertCode }).code;
      fail(
        certificate
          ? new TunnelError('client-certificate', certificate, { code, setting: REFUSED_CLIENT_CERTIFICATE, cause: err })
          : dialFailure(endpoint, proxy, err),
      );
    });
  });
}

/** The dial's deadline passed: which part it was (the proxy, its sign-in, or the WebSocket handshake). */
function handshakeTimeout(endpoint: Endpoint, proxy: UpstreamProxy | undefined, proxyStage: ProxyStage | 'connecting', timeoutMs: number): TunnelError {
  const seconds = timeoutMs / 1000;
  if (proxy && proxyStage === 'connecting') {
    return new TunnelError('proxy-timeout', `the HTTP proxy at ${proxy.display} did not open the tunnel within ${seconds} s`, { code: 'PROXY_TIMEOUT' });
  }
  if (proxy && proxyStage === 'signing in') {
    return new TunnelError('proxy-timeout', `signing in to the HTTP proxy at ${proxy.display} (it asked, with a 407) did not finish within ${seconds} s`, {
      code: 'PROXY_SIGN_IN_TIMEOUT',
    });
  }
  const via = proxy ? ` through the HTTP proxy at ${proxy.display}` : '';
  return new TunnelError('timeout', `the WebSocket handshake with ${endpoint.display}${via} timed out after ${seconds} s`, { code: 'TIMEOUT' });
}

/** The endpoint's host as TLS checks it: an IPv6 address without brackets. */
function endpointHost(endpoint: Endpoint): string {
  return new URL(endpoint.url).hostname.replace(/^\[|\]$/g, '');
}

/**
 * The server's reply to a refused upgrade becomes the proxy's status and
 * reason. A WSSH server names its refusal's code in REFUSAL_HEADER, which
 * tells apart what one status covers (429: this client's limit or a login
 * backlog; 503: the server's limit, a burst, a drain, no descriptors); a
 * server without it (an original one, a newer one's code this client does
 * not know, or nginx answering for it) is read by its status alone.
 */
function refusal(endpoint: Endpoint, status: number, statusText = '', body: string, named?: string | string[]): TunnelError {
  // The status line is the server's (or a proxy's) text: escaped like its body's first line.
  const said = `${status} ${peerText(statusText, 200)}`.trim() + (body ? `: ${body}` : '');
  const header = typeof named === 'string' ? named.trim() : undefined;
  // A code is believed only with its own status: a proxy or a broken server that says otherwise is read by the status.
  const code = isRefusalCode(header) && REFUSALS[header].status === status ? header : BY_STATUS[status];
  if (code) return serverRefusal(endpoint, code, said);
  if (status === 404) return new TunnelError('no-server', `no WSSH server at ${endpoint.display} (${said}): check the endpoint's path`);
  return new TunnelError('server-failed', `the WSSH server failed (${said})`);
}

/** What a status alone says, from a server that names no refusal code (an original one, or nginx answering for it). */
const BY_STATUS: Partial<Record<number, RefusalCode>> = { 401: 'unauthorized', 403: 'denied', 504: 'connect-timeout' };

/**
 * A refusal the server named: the same refusal on this side, with words for
 * it. Codes about the upgrade request itself (malformed, too long, too slow)
 * are this client's or a proxy's doing, not the SSH client's: they stay
 * `server-failed`, with the code said.
 */
function serverRefusal(endpoint: Endpoint, code: RefusalCode, said: string): TunnelError {
  const at = endpoint.display;
  switch (code) {
    case 'unauthorized':
      return new TunnelError('auth-required', `the WSSH server at ${at} requires authentication (${said})`);
    case 'denied':
    case 'origin':
      return new TunnelError('denied', `refused by the WSSH server (${said})`);
    case 'connect-timeout':
      return new TunnelError('connect-timeout', `the WSSH server timed out reaching the target (${said})`);
    case 'unreachable':
      return new TunnelError('unreachable', `the WSSH server cannot reach the target (${said})`);
    case 'bad-target':
      return new TunnelError('bad-target', `the WSSH server does not take this target (${said})`);
    case 'client-limit':
      return new TunnelError('client-limit', `the WSSH server at ${at} allows no more tunnels from this client now (${said})`);
    case 'login-backlog':
      return new TunnelError('login-backlog', `the WSSH server at ${at} has too many logins from this client waiting (${said})`);
    case 'capacity':
      return new TunnelError('capacity', `the WSSH server at ${at} is at its tunnel limit: try again later (${said})`);
    case 'busy':
      return new TunnelError('busy', `the WSSH server at ${at} is too busy to take the tunnel now (${said})`);
    case 'draining':
      return new TunnelError('draining', `the WSSH server at ${at} is shutting down: try again (${said})`);
    case 'not-ready':
      return new TunnelError('not-ready', `the WSSH server at ${at} is not ready: try again later (${said})`);
    case 'descriptors':
      return new TunnelError('descriptors', `the WSSH server at ${at} is out of file descriptors (${said})`);
    case 'resume-unknown':
      return new TunnelError('resume-unknown', `the WSSH server at ${at} does not hold the session (${said})`);
    default:
      return new TunnelError('server-failed', `the WSSH server failed (${said}; refusal ${code})`);
  }
}

/** Network, proxy and TLS errors, named for what they are. */
function dialFailure(endpoint: Endpoint, proxy: UpstreamProxy | undefined, err: Error & { code?: string }): TunnelError {
  const where = endpoint.display;
  // This process is out of resources: neither the server nor the target is at fault.
  if (outOfDescriptors(err))
    return new TunnelError('descriptors', `cannot open a connection to ${where}: ${descriptorsMessage(err)}`, {
      code: err.code as 'EMFILE' | 'ENFILE',
      cause: err,
    });
  if (err instanceof ProxyRefusal && proxy) {
    const { refusal, message, setting } = proxyRefusalMessage(err, proxy, new URL(endpoint.url).host);
    return new TunnelError(refusal, message, { code: `PROXY_${err.status}`, setting, cause: err });
  }
  if (err instanceof ProxyUnreachable && proxy) {
    const { refusal, message } = proxyConnectFailure(err.error, proxy);
    return new TunnelError(refusal, message, { code: 'PROXY_UNREACHABLE', cause: err });
  }
  const certificate = certificateFailure(err, where);
  // certificateFailure has words only for the codes of CertificateErrorCode.
  if (certificate) return new TunnelError('certificate', certificate, { code: err.code as CertificateErrorCode, cause: err });
  const via = proxy ? ` (through the HTTP proxy at ${proxy.display})` : '';
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TunnelError('unreachable', `cannot resolve the host of ${where} (${err.code})`, { cause: err });
    case 'ECONNREFUSED':
      return new TunnelError('unreachable', `connection refused by ${where}: is the WSSH server running?`, { cause: err });
    case 'ECONNRESET':
      return new TunnelError('unreachable', `connection to ${where} was reset${via}`, { cause: err });
    case 'ETIMEDOUT':
      return new TunnelError('timeout', `connection to ${where} timed out${via}`, { code: 'TIMEOUT', cause: err });
  }
  if (/handshake has timed out/i.test(err.message)) {
    return new TunnelError('timeout', `the WebSocket handshake with ${where} timed out${via}`, { code: 'TIMEOUT', cause: err });
  }
  return new TunnelError('unreachable', `cannot reach ${where}${via}: ${peerText(err.message)}`, { cause: err });
}

/** The first line of a refusal's body, bounded: a reason, not a page; and the bounded text itself. */
function readReason(res: IncomingMessage): Promise<{ line: string; text: string }> {
  return new Promise((resolve) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < 512) body += chunk;
    });
    const done = () => resolve({ line: firstLine(body), text: body });
    res.on('end', done);
    res.on('error', done);
    res.on('close', done);
  });
}

/** Whether the accepted upgrade carries this project's mark (legacyServer.ts); the trace and `onUpgrade` hear the response. */
function serverMarked(res: IncomingMessage, { trace, onUpgrade }: Pick<DialOptions, 'trace' | 'onUpgrade'>): boolean {
  const mark = headerText(res.headers[SERVER_MARK_HEADER.toLowerCase()]);
  trace?.({ kind: 'upgrade', status: res.statusCode ?? 101, mark });
  onUpgrade?.(res);
  return mark !== undefined;
}

/** A refused upgrade as the trace tells it. */
function refusedEvent(res: IncomingMessage, reason: string): DialEvent {
  const header = (name: string) => headerText(res.headers[name.toLowerCase()]);
  const [refusal, authenticate] = [header(REFUSAL_HEADER), header('WWW-Authenticate')];
  return { kind: 'refused', status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', refusal, authenticate, reason };
}

/** A response header as one bounded line, for the trace. */
function headerText(value: string | string[] | undefined): string | undefined {
  return value === undefined ? undefined : peerText([value].flat().join(', '), 100);
}

function firstLine(text: string): string {
  return peerText(text.trim().split(/\r?\n/, 1)[0] ?? '', 200);
}
