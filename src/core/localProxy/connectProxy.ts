/**
 * The local HTTP CONNECT proxy: PuTTY, plink, WinSCP or `nc -X connect` ask
 * for `CONNECT host:port`, and each request becomes one tunnel through the
 * WSSH endpoint.
 *
 * Node's HTTP parser does the parsing (request line, headers, the 8 KiB header
 * limit, the header timeout); this module decides what to answer:
 * - `200 Connection established` only once the tunnel's WebSocket is open, so a
 *   client never starts SSH on a tunnel that is not there;
 * - otherwise a status with a one-line reason in the body: 400 malformed,
 *   403 refused by the server, 405 not CONNECT, 408 headers too slow,
 *   431 headers too large, 502/504 server or target unreachable.
 * Bytes the client sent after the blank line are forwarded first.
 *
 * The same port answers SOCKS5 and SOCKS4/4a (PuTTY's other proxy types),
 * told apart by the first byte: 0x05, 0x04, anything else is HTTP. A SOCKS
 * tunnel takes the same way as a CONNECT one (dial, relay, tracker); its
 * refusals are SOCKS replies (socksHandshake.ts).
 */
import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Endpoint } from '../../shared/endpoint';
import { TunnelError } from '../tunnel/tunnelError';
import { RoutedDialOptions, dialRoutes } from '../dial/proxyRoutes';
import { ProxyDecision } from '../upstream/routes';
import type { RelayOptions } from '../tunnel/relay';
import { type DialAttempt, ResumingTunnel, dialTunnel, startTunnel } from '../dial/resumingTunnel';
import { formatBytes } from '../../shared/traffic';
import { logLineText } from '../tunnel/peerText';
import { Target, TargetError, formatTarget, parseTarget } from '../../shared/target';
import { TunnelTracker } from '../tunnel/tunnels';
import { TunnelHttpServer } from '../inbound/httpServer';
import { writeRefusal } from '../inbound/httpRefusal';
import { REFUSALS, type RefusalCode } from '../tunnel/refusals';
import type { ConfigProblem } from '../tunnel/configErrors';
import { SocksError, SocksVersion, credentialMatches, readSocksRequest, socksFailure, socksSuccess, type ProxyCredential } from './socksHandshake';
import { DialQueue, QueueWaitError, admitConnections, type AdmissionOptions, type AdmissionRefusal } from '../inbound/admission';
import { DescriptorAlarm, outOfDescriptors } from '../inbound/descriptors';
import { DEFAULT_PROXY_HOST, DEFAULT_PROXY_PORT } from '../../shared/defaults';

export { DEFAULT_PROXY_HOST, DEFAULT_PROXY_PORT };

export interface ConnectProxyOptions extends RoutedDialOptions, RelayOptions {
  /** The WSSH endpoint every tunnel goes through; can be changed later with `setEndpoint`. */
  endpoint: Endpoint;
  /**
   * The proxy's own credential: every client must then send it, as HTTP
   * Basic `Proxy-Authorization` on CONNECT (407 otherwise) or SOCKS5 user
   * name and password (RFC 1929; SOCKS4 is refused). Keeps other users of a
   * shared machine (a terminal server) from riding this user's tunnels.
   * @default none: any local client may connect
   */
  credential?: ProxyCredential;
  /** Largest request line plus headers accepted, in bytes (a larger one gets 431). @default 8192 */
  maxHeaderSize?: number;
  /** How long a client may take to send its request headers, in ms (then 408). @default 10000 */
  headersTimeoutMs?: number;
  /** The tunnel tracker to report to; one is made when not given. */
  tracker?: TunnelTracker;
  /**
   * Decides the HTTP proxy for each dial (a URL, `false` for none, undefined
   * for the environment's, or a list to try in order, as a PAC script gives
   * it), e.g. the tray app asking the system for the endpoint's URL.
   * Overrides `proxy` when given.
   */
  resolveProxy?: (endpoint: Endpoint) => Promise<ProxyDecision> | ProxyDecision;
  /** How a burst of new connections is admitted (admission.ts). */
  admission?: AdmissionOptions;
  /** Dials at once and how long a tunnel may wait for its turn (admission.ts). @default a DialQueue of 128 at once, 120 s wait */
  dials?: DialQueue;
  /**
   * Offer the server to resume tunnels after a break of their WebSocket
   * (resumingTunnel.ts); a server that does not take the offer gets today's
   * tunnels. @default true
   */
  resume?: boolean;
}

const stderrLine = (line: string) => void process.stderr.write(`wssh: ${logLineText(line)}\n`);

/** How a tunnel request is answered: HTTP status lines or SOCKS replies. */
interface Answer {
  accept(socket: Socket): void;
  refuse(socket: Duplex, code: RefusalCode, reason: string): void;
}

/** The default of `maxHeaderSize`: PuTTY's CONNECT is a few hundred bytes. */
export const DEFAULT_MAX_HEADER_SIZE = 8192;
/** The default of `headersTimeoutMs`. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** How long open tunnels may finish when `wssh connect` is stopped, in ms. */
export const DEFAULT_PROXY_DRAIN_MS = 2000;

interface ProxyEvents {
  /** Something the proxy itself could not do (not a tunnel's failure). */
  error: [err: Error];
  /**
   * A condition of the whole process a person must hear of even with
   * tunnel lines off, such as running out of file descriptors; at most one a
   * second.
   */
  warning: [message: string];
}

export class ConnectProxy extends EventEmitter<ProxyEvents> {
  readonly tracker: TunnelTracker;
  private endpoint: Endpoint;
  private readonly web: TunnelHttpServer;
  private readonly server: http.Server;
  private readonly pending = new Set<AbortController>();
  /** Resumable tunnels open now, for reconnectAll. */
  private readonly resumable = new Set<ResumingTunnel>();
  /** A burst of tunnels dials a steady number at a time. */
  private readonly dials: DialQueue;
  /** Sockets whose first byte has not come yet, or in a SOCKS handshake: not known to the HTTP server. */
  private readonly handshaking = new Set<Socket>();
  private readonly headersTimeoutMs: number;

  constructor(private readonly options: ConnectProxyOptions) {
    super();
    this.endpoint = options.endpoint;
    this.tracker = options.tracker ?? new TunnelTracker();
    this.headersTimeoutMs = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    this.dials = options.dials ?? new DialQueue();
    this.web = new TunnelHttpServer({
      headersTimeoutMs: this.headersTimeoutMs,
      maxHeaderSize: options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE,
      keepAliveTimeoutMs: 1000,
      tracker: this.tracker,
      refuse: (socket, code, reason) => this.refuse(socket, code, reason, (socket as Socket).remoteAddress ?? '', httpAnswer),
      onError: (err) => {
        // Out of descriptors, a connection could not even be accepted (libuv
        // closes it at once): say so and go on serving the open tunnels.
        if (outOfDescriptors(err)) {
          this.descriptors.note('accepting a connection', err as NodeJS.ErrnoException);
          return;
        }
        this.emit('error', err);
      },
    });
    this.server = this.web.server;
    // Each new connection is looked at before the HTTP server sees it: the
    // server's own 'connection' handler (its HTTP parser) is taken off and
    // given only the connections whose first byte is not SOCKS. The server
    // still listens itself, so its header timeouts and connection tracking
    // work as before.
    const httpConnection = this.server.listeners('connection') as Array<(socket: Socket) => void>;
    this.server.removeAllListeners('connection');
    this.server.on('connection', (socket: Socket) => this.onConnection(socket, httpConnection));
    // A burst waits in the admission queue, unread; the first-byte and header
    // timers start when a connection leaves it, so a 408 measures the
    // client's slowness, not this proxy's backlog.
    admitConnections(this.server, options.admission ?? {}, (socket, refusal) => this.refuseWaiting(socket, refusal));
    this.server.on('connect', (req, socket, head) => this.onConnect(req, socket as Socket, head));
    this.server.on('request', (req, res) => this.onRequest(req, res));
  }

  /** Running out of descriptors: a warning per burst, not per refused connection. */
  private readonly descriptors = new DescriptorAlarm((line) => this.emit('warning', line));

  /** A connection the admission queue gave up on: 503 in its own protocol (HTTP or SOCKS, by its first byte). */
  private refuseWaiting(socket: Socket, refusal: AdmissionRefusal): void {
    const client = `${socket.remoteAddress}:${socket.remotePort}`;
    const answer = (first?: number) => {
      clearTimeout(timer);
      socket.off('data', onFirst);
      this.refuse(socket, 'busy', refusal.reason, client, first === 0x05 || first === 0x04 ? socksAnswer(first) : httpAnswer);
    };
    const onFirst = (chunk: Buffer) => answer(chunk[0]);
    const timer = setTimeout(answer, 1000);
    socket.on('data', onFirst);
    socket.resume();
  }

  /** Switches the endpoint for tunnels opened from now on; open ones go on. */
  setEndpoint(endpoint: Endpoint): void {
    this.endpoint = endpoint;
  }

  getEndpoint(): Endpoint {
    return this.endpoint;
  }

  /** Starts listening; loopback only unless the caller names another host. */
  listen(port = DEFAULT_PROXY_PORT, host = DEFAULT_PROXY_HOST): Promise<AddressInfo> {
    return this.web.listen(port, host);
  }

  address(): AddressInfo | null {
    return this.web.address();
  }

  /** The header deadline of each HTTP connection whose request is not complete yet. */
  private readonly headerDeadlines = new Map<Socket, NodeJS.Timeout>();

  get listening(): boolean {
    return this.web.listening;
  }

  /**
   * Stops accepting. Open tunnels may finish within `drainMs`; then they are
   * aborted. Resolves when everything is closed.
   */
  close(drainMs = 0): Promise<void> {
    return this.web.close(drainMs, 'proxy stopped', () => {
      for (const dial of this.pending) dial.abort();
      for (const socket of this.handshaking) socket.destroy();
    });
  }

  /** Sorts a new connection by its first byte: SOCKS5, SOCKS4, or HTTP for the server. */
  private onConnection(socket: Socket, httpConnection: Array<(socket: Socket) => void>): void {
    const client = `${socket.remoteAddress}:${socket.remotePort}`;
    const started = Date.now();
    this.handshaking.add(socket);
    socket.on('error', () => {}); // reported through the relay or the refusal
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onFirst);
      socket.off('close', done);
      socket.off('end', onEmpty);
      this.handshaking.delete(socket);
    };
    // A client that hangs up without a byte: nothing to answer, nothing to
    // keep (the socket is half-open and would wait for the timeout).
    const onEmpty = () => {
      done();
      socket.destroy();
    };
    // A client that sends nothing gets what the HTTP server gives one whose
    // headers are too slow.
    const timer = setTimeout(() => {
      done();
      this.refuse(socket, 'handshake-timeout', 'the request did not arrive in time', client, httpAnswer);
    }, this.headersTimeoutMs);
    const onFirst = (chunk: Buffer) => {
      done();
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === 0x05 || chunk[0] === 0x04) {
        this.onSocks(socket, chunk[0], client, this.headersTimeoutMs - (Date.now() - started));
        return;
      }
      // One deadline from the connection's start: Node's header timer starts
      // only now, so without this a client that waited out most of the
      // deadline before its first byte would get a second one (19.9 s for 10).
      const left = Math.max(1, this.headersTimeoutMs - (Date.now() - started));
      const deadline = setTimeout(() => {
        this.headerDeadlines.delete(socket);
        const seconds = this.headersTimeoutMs / 1000;
        this.refuse(socket, 'handshake-timeout', `request headers not complete within ${seconds}s`, client, httpAnswer);
      }, left);
      this.headerDeadlines.set(socket, deadline);
      socket.once('close', () => this.headersComplete(socket));
      for (const listener of httpConnection) listener.call(this.server, socket);
      // The unshifted bytes flow to the parser before anything read later.
      socket.resume();
    };
    socket.on('data', onFirst);
    socket.once('close', done);
    socket.once('end', onEmpty);
  }

  private async onSocks(socket: Socket, version: SocksVersion, client: string, timeoutMs: number): Promise<void> {
    this.handshaking.add(socket);
    let request;
    try {
      request = await readSocksRequest(socket, { timeoutMs: Math.max(1, timeoutMs), credential: this.options.credential });
    } catch (err) {
      const reason = err instanceof SocksError ? err.message : (err as Error).message;
      this.tracker.refuse({ target: '', client, code: err instanceof SocksError ? err.refusal : 'malformed', reason });
      return;
    } finally {
      this.handshaking.delete(socket);
    }
    await this.openTunnel(socket, request.target, client, request.rest, socksAnswer(version));
  }

  private async onConnect(req: http.IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    this.headersComplete(socket);
    const client = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('error', () => {}); // reported through the relay or the refusal
    const credential = this.options.credential;
    if (credential && !basicMatches(credential, req.headers['proxy-authorization'])) {
      const reason = req.headers['proxy-authorization']
        ? 'wrong proxy user name or password'
        : 'this proxy needs its user name and password (Proxy-Authorization: Basic)';
      this.tracker.refuse({ target: req.url ?? '', client, code: 'proxy-auth', reason });
      writeRefusal(socket, REFUSALS['proxy-auth'].status, reason, { 'Proxy-Authenticate': 'Basic realm="wssh local proxy"' });
      return;
    }
    let target: Target;
    try {
      target = parseAuthority(req.url ?? '');
    } catch (err) {
      return this.refuse(socket, 'bad-target', (err as Error).message, client, httpAnswer, req.url ?? '');
    }
    await this.openTunnel(socket, target, client, head, httpAnswer);
  }

  /** Dials the tunnel for `target` and relays `socket` through it, or answers why not. */
  private async openTunnel(socket: Socket, target: Target, client: string, head: Buffer, answer: Answer): Promise<void> {
    const endpoint = this.endpoint;
    const abort = new AbortController();
    this.pending.add(abort);
    const onGone = () => abort.abort();
    socket.once('close', onGone);
    let release: (() => void) | undefined;
    try {
      release = await this.dials.acquire(abort.signal);
      const id = this.tracker.allocateId();
      const log = (line: string) => this.log(`tunnel ${id} to ${formatTarget(target)}: ${line}`);
      // The first dial and every resume's: the same proxy choice, sign-in, trust and certificate.
      const attempt: DialAttempt = async ({ headers, onUpgrade, signal }) => {
        const proxy = this.options.resolveProxy ? await this.options.resolveProxy(endpoint) : this.options.proxy;
        return dialRoutes(endpoint, target, proxy, { ...this.options, headers, onUpgrade, signal });
      };
      const first = await dialTunnel(attempt, { resume: this.options.resume, signal: abort.signal, log });
      release();
      socket.off('close', onGone);
      if (socket.destroyed) {
        first.ws.terminate();
        return;
      }
      answer.accept(socket);
      // The relay sends these first: bytes the client sent after its request.
      // A client whose FIN already came cannot have them unshifted (its
      // stream has ended): the relay is handed them to send first.
      const ended = socket.readableEnded;
      if (head.length > 0 && !ended) socket.unshift(head);
      const relay = startTunnel(socket, first, attempt, { ...this.options, log, head: ended ? head : undefined });
      if (relay instanceof ResumingTunnel) this.watchResumes(id, relay);
      // The SOCKS handshake leaves the socket paused (the HTTP server hands
      // it over flowing): the relay reads from it now.
      if (socket.isPaused()) socket.resume();
      this.tracker.track(id, relay, 'client', { target: formatTarget(target), via: endpoint.display, client });
    } catch (err) {
      socket.off('close', onGone);
      release?.();
      if (outOfDescriptors(err)) this.descriptors.note(`a connection to ${endpoint.display}`, err as NodeJS.ErrnoException);
      const code = err instanceof TunnelError ? err.refusal : err instanceof QueueWaitError ? (err.aborted ? 'client-gone' : 'busy') : 'unreachable';
      this.refuse(socket, code, (err as Error).message, client, answer, formatTarget(target), err instanceof TunnelError ? err.setting : undefined);
    } finally {
      this.pending.delete(abort);
    }
  }

  /** A resumable tunnel's breaks and resumes, for the tracker (the tray's "reconnecting") and reconnectAll. */
  private watchResumes(id: number, tunnel: ResumingTunnel): void {
    this.resumable.add(tunnel);
    tunnel.on('reconnecting', () => this.tracker.setReconnecting(id, true));
    tunnel.on('resumed', () => this.tracker.setReconnecting(id, false));
    tunnel.once('close', (result) => {
      this.resumable.delete(tunnel);
      if (result.resumes > 0) this.log(`tunnel ${id}: resumed ${result.resumes} times, ${formatBytes(result.replayed)} replayed in all`);
    });
  }

  /**
   * The network changed or the computer woke up: every resumable tunnel
   * drops its WebSocket and resumes now, without waiting for pings to fail
   * (the tray app calls it on Electron's powerMonitor and online events).
   */
  reconnectAll(reason: string): void {
    for (const tunnel of this.resumable) tunnel.reconnectNow(reason);
  }

  private log(line: string): void {
    (this.options.log ?? stderrLine)(line);
  }

  /** The request's headers are in: its deadline (see onConnection) no longer applies. */
  private headersComplete(socket: Socket): void {
    clearTimeout(this.headerDeadlines.get(socket));
    this.headerDeadlines.delete(socket);
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.headersComplete(req.socket);
    const reason = `this is a WSSH proxy: it only tunnels CONNECT host:port, not ${req.method}`;
    res.writeHead(REFUSALS['not-connect'].status, { Allow: 'CONNECT', 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    res.end(reason + '\n');
    this.tracker.refuse({ target: req.url ?? '', client: req.socket.remoteAddress ?? '', code: 'not-connect', reason });
  }

  private refuse(socket: Duplex, code: RefusalCode, reason: string, client: string, answer: Answer, target = '', setting?: ConfigProblem): void {
    this.tracker.refuse({ target, client, code, reason, ...(setting && { setting }) });
    answer.refuse(socket, code, reason);
  }
}

/** Whether a `Proxy-Authorization: Basic …` header carries `credential` (RFC 7617, RFC 9110 §11.7.2). */
function basicMatches(credential: ProxyCredential, header: string | undefined): boolean {
  const match = /^basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && credentialMatches(credential, decoded.slice(0, colon), decoded.slice(colon + 1));
}

const httpAnswer: Answer = {
  accept: (socket) => socket.write('HTTP/1.1 200 Connection established\r\n\r\n'),
  refuse: (socket, code, reason) => writeRefusal(socket, REFUSALS[code].status, reason),
};

function socksAnswer(version: SocksVersion): Answer {
  return {
    accept: (socket) => socket.write(socksSuccess(version)),
    refuse: (socket, code) => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      socket.once('finish', () => socket.destroy());
      socket.end(socksFailure(version, code));
    },
  };
}

/**
 * A CONNECT request target is authority-form, `host:port` (RFC 9110 §9.3.6),
 * with IPv6 addresses in brackets; the port is required.
 */
function parseAuthority(authority: string): Target {
  const match = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(authority);
  if (!match) throw new TargetError(`CONNECT needs host:port, got "${authority.slice(0, 100)}"`);
  return parseTarget(authority);
}
