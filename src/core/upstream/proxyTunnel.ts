/**
 * The CONNECT tunnel through one HTTP proxy, signing in as the proxy asks:
 * `openProxyTunnel(proxy, target)` resolves with the socket once the proxy
 * answered 200, ready for the endpoint's bytes (TLS for wss:// goes on top,
 * in transport.ts).
 *
 * A 407 lists what the proxy accepts (every `Proxy-Authenticate` challenge,
 * challenges.ts). The strongest scheme that can work is tried first, then
 * the next: Negotiate (a Kerberos ticket, negotiate.ts), NTLM v2 (explicit
 * `DOMAIN\user` and password, ntlm.ts), Basic. A scheme that cannot even
 * start (no ticket, no credentials) is skipped without a word to the proxy;
 * one the proxy refuses is remembered for the message, and the next scheme
 * starts on a new connection. Each 407's body is read to its end so the
 * connection can carry the next leg: NTLM signs in the connection, not the
 * request, so its legs and the CONNECT that follows them must share one.
 *
 * Credentials from the proxy URL are sent as Basic before any 407, as
 * before, unless the user is `DOMAIN\user`: Windows credentials are never
 * sent in the clear to a proxy that has not asked for Basic. What the rules
 * for this proxy hold back (ProxySignInRules: who chose it) is not sent at
 * all, and said: the user's Windows sign-in to a proxy neither the system
 * nor the user chose, Basic before the 407 to a proxy the user did not name,
 * a `DOMAIN\user` password as Basic over plain http:// unless allowed.
 *
 * Never in an error or a log line: the password, a token.
 */
import net from 'node:net';
import tls from 'node:tls';
import { DEFAULT_SIGN_IN_RULES, ProxyAuthAttempt, ProxyAuthScheme, ProxyRefusal, type ProxySignInRules, type UpstreamProxy } from './upstreamProxy';
import { findChallenge, parseChallenges } from './auth/challenges';
import { NegotiateUnavailable, NoKerberosTicket, type NegotiateContext, negotiateContext } from './auth/negotiate';
import { authenticateMessage, negotiateMessage, splitDomainUser } from './auth/ntlm';
import { abortError } from '../tunnel/abortError';
import { peerText } from '../tunnel/peerText';
import { traceSocket, type HopTrace } from './hopTrace';

/** A network error on the way to the HTTP proxy itself (not to the endpoint). */
export class ProxyUnreachable extends Error {
  override name = 'ProxyUnreachable';
  readonly code?: string;
  constructor(readonly error: Error & { code?: string }) {
    super(error.message);
    this.code = error.code;
  }
}

/**
 * The proxy closed a kept-alive connection, after answering on it, before it
 * answered the next request: a stale connection (its FIN was on the way, or
 * it closes after a 407 without `Connection: close`), not an unreachable proxy.
 */
class StaleConnection extends ProxyUnreachable {}

export interface ProxyTunnelOptions {
  /** Abandons the handshake: the connection to the proxy is destroyed. */
  signal?: AbortSignal;
  /** Hears what a person should know once (Negotiate unavailable, and why). Never a secret. */
  log?: (line: string) => void;
  /** Told when the proxy has answered the first request with a 407: from then on the wait is the sign-in's. */
  onSignIn?: () => void;
  /** What may be sent to this proxy to sign in. @default DEFAULT_SIGN_IN_RULES (a proxy the user named) */
  rules?: ProxySignInRules;
  /** Told each step: the proxy's name resolved, connected to, each answer, the sign-in that opened the tunnel (hopTrace.ts). */
  trace?: HopTrace;
}

/** The most a response head may take; the most of a refusal's body kept (the rest is read and dropped). */
const MAX_HEAD = 64 * 1024;
/** Legs of one Negotiate exchange before giving up (Kerberos needs one; SPNEGO with NTLM inside, two). */
const MAX_NEGOTIATE_LEGS = 4;

/**
 * Opens `CONNECT host:port` through `proxy`, signing in as it asks.
 *
 * @throws {ProxyUnreachable} the proxy cannot be reached, or closed the connection unasked.
 * @throws {ProxyRefusal} the proxy answered something other than 200; for a 407, with what was offered and tried.
 */
export async function openProxyTunnel(proxy: UpstreamProxy, target: { host: string; port: number }, options: ProxyTunnelOptions = {}): Promise<net.Socket> {
  const handshake = new ProxyHandshake(proxy, target, options, await ProxyConnection.open(proxy, options.signal, options.trace));
  try {
    const tunnel = await handshake.run();
    options.trace?.({ kind: 'proxy-open', scheme: handshake.scheme, attempts: [...handshake.attempts] });
    return tunnel;
  } catch (err) {
    handshake.connection.destroy();
    throw err;
  }
}

/** A response, and when the scheme failed before the proxy could judge its credentials, why. */
interface SchemeOutcome {
  response: ProxyResponse;
  failed?: ProxyAuthAttempt;
}

/** One CONNECT handshake: the connection it is on now, and the schemes tried so far. */
class ProxyHandshake {
  private readonly credentials: { user: string; password: string } | undefined;
  private readonly authority: string;
  /** The schemes tried so far, and what became of each. */
  readonly attempts: ProxyAuthAttempt[] = [];
  /** The scheme of the request the proxy answered 200; undefined when it asked for nothing. */
  scheme?: ProxyAuthScheme;
  private readonly rules: Required<ProxySignInRules>;

  constructor(
    private readonly proxy: UpstreamProxy,
    target: { host: string; port: number },
    private readonly options: ProxyTunnelOptions,
    public connection: ProxyConnection,
  ) {
    this.credentials = proxyCredentials(proxy.url);
    this.rules = { ...DEFAULT_SIGN_IN_RULES, ...options.rules };
    this.authority = `${net.isIPv6(target.host) ? `[${target.host}]` : target.host}:${target.port}`;
  }

  /** The tunnel, once a request is answered 200; the first request carries the URL's Basic, the 407 the schemes. */
  async run(): Promise<net.Socket> {
    const { credentials, attempts } = this;
    const preemptive = credentials && this.rules.preemptiveBasic && !credentials.user.includes('\\') ? basic(credentials) : undefined;
    let response = await this.connection.exchange(this.request(preemptive));
    if (response.status === 200) {
      if (preemptive) this.scheme = 'Basic';
      return this.connection.tunnel();
    }
    if (response.status !== 407) throw new ProxyRefusal(response.status, response.statusText);
    this.options.onSignIn?.();

    const challenges = parseChallenges(response.headers.get('proxy-authenticate') ?? []);
    const offered = [...new Set(challenges.map((c) => schemeName(c.scheme)))];
    // The Basic sent before the 407 counts as refused where the proxy takes Basic (or did not say what it takes).
    if (preemptive && (offered.length === 0 || offered.includes('Basic'))) {
      attempts.push({ scheme: 'Basic', refused: true, user: credentials!.user });
    }

    // A 407 must say what it takes (RFC 9110 §11.7.1); one that does not can only mean Basic.
    const offers = (scheme: ProxyAuthScheme) => (challenges.length === 0 ? scheme === 'Basic' : findChallenge(challenges, scheme) !== undefined);
    for (const scheme of ['Negotiate', 'NTLM', 'Basic'] as const) {
      if (!offers(scheme) || (scheme === 'Basic' && preemptive)) continue;
      const held = this.heldBack(scheme);
      if (held) {
        attempts.push(held);
        continue;
      }
      const negotiate = scheme === 'Negotiate' ? await this.negotiateStart() : undefined;
      if (scheme === 'Negotiate' ? !negotiate : !credentials) {
        if (scheme !== 'Negotiate') attempts.push({ scheme, refused: false, reason: 'no credentials' });
        continue;
      }
      // After a refused scheme, a connection of its own: a proxy ties the
      // connection to the scheme it was signing in with (squid answers NTLM on
      // the connection of a refused Negotiate with no challenge).
      if (!this.connection.reusable || attempts.some((a) => a.refused)) {
        this.connection.destroy();
        this.connection = await ProxyConnection.open(this.proxy, this.options.signal, this.options.trace);
      }
      const outcome =
        scheme === 'Negotiate'
          ? await this.signInNegotiate(negotiate!)
          : scheme === 'NTLM'
            ? await this.signInNtlm(credentials!)
            : { response: await this.start(this.request(basic(credentials!))) };
      response = outcome.response;
      if (outcome.failed) {
        attempts.push(outcome.failed);
        continue;
      }
      if (response.status === 200) {
        this.scheme = scheme;
        return this.connection.tunnel();
      }
      if (response.status !== 407) throw new ProxyRefusal(response.status, response.statusText, { offered, attempts });
      attempts.push({ scheme, refused: true, user: scheme === 'Negotiate' ? undefined : credentials?.user });
    }
    throw new ProxyRefusal(response.status, response.statusText, { offered, attempts });
  }

  /** The attempt of a scheme the rules for this proxy hold back (nothing is sent), or undefined when it may go. */
  private heldBack(scheme: ProxyAuthScheme): ProxyAuthAttempt | undefined {
    const { credentials, rules } = this;
    if (scheme === 'Negotiate' && !rules.windows) {
      const reason = "your Windows sign-in (Negotiate) goes only to a proxy that the system's settings chose or that you approved, so it was not sent";
      return { scheme, refused: false, withheld: 'windows-sign-in', reason };
    }
    const clear = this.proxy.url.protocol === 'http:';
    if (scheme === 'Basic' && credentials?.user.includes('\\') && clear && !rules.clearBasicForDomainUser) {
      const reason = `${credentials.user}'s password goes as Basic over plain http:// only if you allow it (anyone on the way could read it), so it was not sent`;
      return { scheme, refused: false, withheld: 'clear-basic', user: credentials.user, reason };
    }
    return undefined;
  }

  private request(authorization?: string): string {
    const { authority } = this;
    return (
      `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\nProxy-Connection: Keep-Alive\r\n` +
      (authorization ? `Proxy-Authorization: ${authorization}\r\n` : '') +
      '\r\n'
    );
  }

  /**
   * The first request of a scheme needs nothing of the connection's past: on
   * a stale connection it goes again once on a new one, as HTTP clients
   * retry on a stale keep-alive connection.
   */
  private async start(head: string): Promise<ProxyResponse> {
    try {
      return await this.connection.exchange(head);
    } catch (err) {
      if (!(err instanceof StaleConnection)) throw err;
      this.connection.destroy();
      this.connection = await ProxyConnection.open(this.proxy, this.options.signal, this.options.trace);
      return this.connection.exchange(head);
    }
  }

  /**
   * A later leg of a handshake needs its connection: closed under it
   * (undefined here), the scheme has failed (said as such, `closedMidway`),
   * the proxy is not unreachable.
   */
  private async next(head: string): Promise<ProxyResponse | undefined> {
    try {
      return await this.connection.exchange(head);
    } catch (err) {
      if (err instanceof StaleConnection) return undefined;
      throw err;
    }
  }

  /** What Negotiate needs before it talks to the proxy: a ticket; without one, undefined and the reason noted. */
  private async negotiateStart(): Promise<{ context: NegotiateContext; token: string } | undefined> {
    const scheme = 'Negotiate';
    try {
      const context = negotiateContext(this.proxy.url.hostname, (reason) =>
        this.options.log?.(`Negotiate (Kerberos) for HTTP proxies is off: ${reason}; NTLM and Basic still work`),
      );
      return { context, token: await context.initial() };
    } catch (err) {
      if (err instanceof NegotiateUnavailable) this.attempts.push({ scheme, refused: false, reason: `Negotiate is off here (${err.message})` });
      else if (err instanceof NoKerberosTicket) this.attempts.push({ scheme, refused: false, reason: err.message, detail: err.detail });
      else throw err;
      return undefined;
    }
  }

  /** Negotiate's legs, as many as GSSAPI and the proxy want (up to MAX_NEGOTIATE_LEGS), on one connection. */
  private async signInNegotiate(negotiate: { context: NegotiateContext; token: string }): Promise<SchemeOutcome> {
    const scheme = 'Negotiate';
    let response = await this.start(this.request(`Negotiate ${negotiate.token}`));
    for (let leg = 1; leg < MAX_NEGOTIATE_LEGS && response.status === 407 && this.connection.reusable; leg++) {
      const more = findChallenge(parseChallenges(response.headers.get('proxy-authenticate') ?? []), 'Negotiate')?.token;
      if (!more) break;
      let token: string;
      try {
        token = await negotiate.context.next(more);
      } catch {
        break; // the proxy's token made no sense to GSSAPI: a refusal all the same
      }
      const answer = await this.next(this.request(`Negotiate ${token}`));
      if (!answer) return { response, failed: { scheme, refused: true, reason: closedMidway(scheme) } };
      response = answer;
    }
    return { response };
  }

  /** NTLM's three messages: negotiate, the proxy's challenge, authenticate, on one connection. */
  private async signInNtlm(credentials: { user: string; password: string }): Promise<SchemeOutcome> {
    const scheme = 'NTLM';
    const user = credentials.user;
    const { domain, user: name } = splitDomainUser(user);
    const first = negotiateMessage();
    const response = await this.start(this.request(`NTLM ${first.toString('base64')}`));
    const challenge = response.status === 407 ? findChallenge(parseChallenges(response.headers.get('proxy-authenticate') ?? []), 'NTLM')?.token : undefined;
    if (response.status === 407 && !challenge) {
      // The password never left: the proxy would not even start NTLM.
      return { response, failed: { scheme, refused: true, user, reason: 'the proxy answered its first message with no NTLM challenge' } };
    }
    if (!challenge) return { response };
    if (!this.connection.reusable) return { response, failed: { scheme, refused: true, user, reason: closedMidway(scheme) } };
    let answer: Buffer;
    try {
      const challengeMessage = Buffer.from(challenge, 'base64');
      answer = authenticateMessage({ negotiate: first, challengeMessage, credentials: { domain, user: name, password: credentials.password } });
    } catch (err) {
      const reason = `the proxy's NTLM challenge is malformed (${(err as Error).message})`;
      return { response, failed: { scheme, refused: true, user, reason } };
    }
    const answered = await this.next(this.request(`NTLM ${answer.toString('base64')}`));
    if (!answered) return { response, failed: { scheme, refused: true, user, reason: closedMidway(scheme) } };
    return { response: answered };
  }
}

/** Why a scheme failed when the proxy closed the connection between its legs. */
function closedMidway(scheme: ProxyAuthScheme): string {
  return `the proxy closed the connection in the middle of the ${scheme} handshake (${scheme} needs one kept-alive connection)`;
}

/** The proxy URL's user and password, %-decoded; undefined without a user. */
function proxyCredentials(url: URL): { user: string; password: string } | undefined {
  if (!url.username && !url.password) return undefined;
  return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

function basic(credentials: { user: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
}

/** Schemes as this code names them; others as the proxy wrote them, escaped (they go into messages). */
function schemeName(scheme: string): ProxyAuthScheme | string {
  const known: Record<string, ProxyAuthScheme> = { negotiate: 'Negotiate', ntlm: 'NTLM', basic: 'Basic' };
  return known[scheme.toLowerCase()] ?? peerText(scheme, 40);
}

interface ProxyResponse {
  version: string;
  status: number;
  statusText: string;
  /** Header values by lower-case name, in order (several `Proxy-Authenticate` stay several). */
  headers: Map<string, string[]>;
}

/**
 * One connection to the proxy, read as HTTP/1.1 until the tunnel is open: a
 * response head, then its body by Content-Length, chunks, or to the close.
 * Whether the next request may follow on it is `reusable`.
 */
class ProxyConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private ended = false;
  private failure?: Error;
  private wake?: () => void;
  /** The last response left the connection open and in step for another request. */
  reusable = true;
  /** Responses read on this connection. */
  private answered = 0;

  private constructor(
    private readonly socket: net.Socket,
    private readonly signal?: AbortSignal,
    private readonly trace?: HopTrace,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  static open(proxy: UpstreamProxy, signal?: AbortSignal, trace?: HopTrace): Promise<ProxyConnection> {
    const host = proxy.url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(proxy.url.port) || (proxy.url.protocol === 'https:' ? 443 : 80);
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError());
      // An https:// proxy speaks TLS itself and is checked as any server is (the system's CAs, NODE_EXTRA_CA_CERTS).
      const socket =
        proxy.url.protocol === 'https:'
          ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
          : net.connect({ host, port });
      traceSocket(socket, 'proxy', host, port, trace);
      const ready = proxy.url.protocol === 'https:' ? 'secureConnect' : 'connect';
      const onAbort = () => {
        socket.destroy();
        reject(abortError());
      };
      const onError = (err: Error) => {
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(new ProxyUnreachable(err));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once(ready, () => {
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.setNoDelay(true);
        resolve(new ProxyConnection(socket, signal, trace));
      });
    });
  }

  /** Sends a request head and reads the response; for a refusal, its body too (to keep the connection in step). */
  async exchange(head: string): Promise<ProxyResponse> {
    if (!this.reusable) throw new Error('the proxy connection cannot take another request');
    this.socket.write(head);
    const response = await this.readHead();
    if (this.trace) {
      const offered = parseChallenges(response.headers.get('proxy-authenticate') ?? []).map((c) => schemeName(c.scheme));
      this.trace({ kind: 'proxy-answer', status: response.status, statusText: response.statusText, offered: [...new Set(offered)] });
    }
    if (response.status >= 200 && response.status < 300) return response;
    await this.readBody(response);
    return response;
  }

  /** The open tunnel: the socket as it is, with whatever came after the 200's head put back. */
  tunnel(): net.Socket {
    this.detach();
    if (this.buffer.length > 0) this.socket.unshift(this.buffer);
    this.buffer = Buffer.alloc(0);
    return this.socket;
  }

  destroy(): void {
    this.detach();
    this.socket.destroy();
  }

  private detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.socket.pause();
  }

  private readonly onData = (chunk: Buffer) => {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.wake?.();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.wake?.();
  };
  private readonly onError = (err: Error) => {
    this.failure = err;
    this.wake?.();
  };
  private readonly onAbort = () => {
    this.failure = abortError();
    this.socket.destroy();
    this.wake?.();
  };

  /** Waits for more bytes; rejects at an error, resolves false at the end. */
  private more(): Promise<boolean> {
    if (this.failure) return Promise.reject(this.failure.name === 'AbortError' ? this.failure : new ProxyUnreachable(this.failure));
    if (this.ended) return Promise.resolve(false);
    return new Promise((resolve, reject) => {
      this.wake = () => {
        this.wake = undefined;
        if (this.failure) reject(this.failure.name === 'AbortError' ? this.failure : new ProxyUnreachable(this.failure));
        else resolve(!this.ended || this.buffer.length > 0);
      };
    });
  }

  private async readHead(): Promise<ProxyResponse> {
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 4);
        this.answered++;
        return parseHead(head);
      }
      if (this.buffer.length > MAX_HEAD) throw new ProxyRefusal(0, 'a response head larger than 64 KiB');
      if (!(await this.more()) && this.buffer.indexOf('\r\n\r\n') < 0) {
        // Closed without an answer: a network failure of the proxy, not a
        // refusal; after earlier answers on it, a stale connection.
        const error = Object.assign(new Error('the proxy closed the connection without an answer'), { code: 'ECONNRESET' });
        throw this.answered > 0 ? new StaleConnection(error) : new ProxyUnreachable(error);
      }
    }
  }

  private async take(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.buffer.length === 0 && !(await this.more())) throw new ProxyRefusal(0, 'the proxy closed the connection in the middle of a response');
      const now = Math.min(left, this.buffer.length);
      this.buffer = this.buffer.subarray(now);
      left -= now;
    }
  }

  private async line(): Promise<string> {
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end >= 0) {
        const text = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 2);
        return text;
      }
      if (this.buffer.length > MAX_HEAD) throw new ProxyRefusal(0, 'a chunk line larger than 64 KiB');
      if (!(await this.more())) throw new ProxyRefusal(0, 'the proxy closed the connection in the middle of a response');
    }
  }

  /** Reads (and drops) a response's body (RFC 9112 §6.3), and decides whether the connection stays usable. */
  private async readBody(response: ProxyResponse): Promise<void> {
    const header = (name: string) => (response.headers.get(name) ?? []).join(',').toLowerCase();
    const closing = /(^|,)\s*close\s*(,|$)/.test(header('connection') + ',' + header('proxy-connection'));
    const keepAlive10 = /(^|,)\s*keep-alive\s*(,|$)/.test(header('connection') + ',' + header('proxy-connection'));
    const http10 = response.version === '1.0';
    if (/(^|,)\s*chunked\s*$/.test(header('transfer-encoding'))) {
      for (;;) {
        const size = parseInt((await this.line()).split(';', 1)[0].trim(), 16);
        if (!Number.isFinite(size) || size < 0) throw new ProxyRefusal(response.status, response.statusText);
        if (size === 0) {
          while ((await this.line()) !== '');
          break;
        }
        await this.take(size);
        await this.line();
      }
    } else if (header('content-length') !== '') {
      const length = Number(header('content-length').split(',')[0].trim());
      if (!Number.isSafeInteger(length) || length < 0) throw new ProxyRefusal(response.status, response.statusText);
      await this.take(length);
    } else {
      // No length: the body runs to the close, and the connection is done.
      while (await this.more()) this.buffer = Buffer.alloc(0);
      this.reusable = false;
      return;
    }
    this.reusable = !closing && !this.ended && !this.failure && (!http10 || keepAlive10);
  }
}

function parseHead(head: string): ProxyResponse {
  const [statusLine, ...lines] = head.split('\r\n');
  const match = /^HTTP\/(1\.[01]) (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!match) throw new ProxyRefusal(0, `not an HTTP answer: "${peerText(statusLine, 80)}"`);
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  // The reason phrase is the proxy's text, said in messages and logs: escaped here, once.
  return { version: match[1], status: Number(match[2]), statusText: peerText((match[3] ?? '').trim(), 200), headers };
}
