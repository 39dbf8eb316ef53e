/**
 * The WSSH server: accepts a WebSocket per tunnel, takes the target from the
 * last path segment, asks the hosts.yml policy, connects over TCP, and only
 * then accepts the upgrade. A refusal is therefore an HTTP status on the
 * upgrade with a one-line reason, which the client side turns into an answer
 * PuTTY shows:
 *
 *   400 bad request or target   401 credentials missing or wrong (with --users)
 *   403 denied by hosts.yml     408 headers not in within the handshake timeout
 *   414 path too long           429 too many tunnels from this client address
 *   502 target unreachable      503 server at capacity, busy (admission
 *   504 TCP connect timed out       queue full or waited too long), shutting
 *                                   down, or out of file descriptors
 *
 * Every refusal also names its code (refusals.ts) in an `X-WSSH-Refusal`
 * header, so that our clients tell apart what one status covers; the
 * original clients read the status and ignore it.
 *
 * The checks run cheapest first, and nothing about the policy is revealed to
 * a client that has not authenticated: path length, the handshake itself
 * (method, key, version: ws would refuse it later, after the connect), the
 * Origin of a browser page (403 unless --allow-origin lists it),
 * authentication (its slow-down holds no tunnel slot), capacity, target,
 * policy, connect.
 *
 * Plain HTTP on the same port: `GET /healthz` (200 while the process
 * lives), `GET /readyz` (200 while it takes new tunnels, else 503 with the
 * reasons: readiness.ts) and `GET /metrics` (counters, Prometheus text
 * format); anything else is 426. They are answered while the server drains
 * too: it keeps listening until the drain ends.
 */
import type http from 'node:http';
import dns from 'node:dns/promises';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { Relay, RelayOptions, closeReason } from '../src/core/tunnel/relay';
import { processBudget } from '../src/core/tunnel/bufferBudget';
import { Target, TargetError, formatTarget, parseTarget } from '../src/shared/target';
import { TunnelTracker } from '../src/core/tunnel/tunnels';
import { TunnelHttpServer } from '../src/core/inbound/httpServer';
import { writeRefusal } from '../src/core/inbound/httpRefusal';
import { admitConnections, type AdmissionOptions } from '../src/core/inbound/admission';
import { DescriptorAlarm, descriptorsMessage, outOfDescriptors } from '../src/core/inbound/descriptors';
import { SERVER_MARK_HEADER, SERVER_MARK_VALUE } from '../src/core/dial/legacyServer';
import { REFUSALS, REFUSAL_HEADER, RefusalError, type RefusalCode, type RefusalErrorOptions } from '../src/core/tunnel/refusals';
import { DEFAULT_SERVER_HOST, DEFAULT_SERVER_PORT } from '../src/shared/defaults';
import type { HostsPolicy } from './policy/hostsPolicy';
import type { Credentials } from './auth/credentials';
import { BASIC_CHALLENGE, BasicAuth, type AuthLimits } from './auth/auth';
import { handshakeProblem, normalizeOrigin, originProblem } from './upgradeRequest';
import { peerText } from '../src/core/tunnel/peerText';
import { FailureBackoff, type FailureBackoffOptions } from './auth/failureBackoff';
import { ClientAddresses, type TrustProxy } from './clientAddress';
import { DEFAULT_LIMITS, TunnelSlots, isSlot, type ServerLimits, type Slot } from './limits';
import { ServerMetrics } from './metrics';
import { ResumableRelay } from '../src/core/tunnel/resumableRelay';
import {
  DEFAULT_RESUME_TIMEOUT_SEC,
  DEFAULT_RESUME_WINDOW,
  ResumeProtocolError,
  newResumeToken,
  offerResponseLines,
  parseUpgradeRequest,
  resumedResponseLines,
  type ResumeRequest,
} from '../src/core/tunnel/resumeProtocol';
import { ResumeSessions, type ResumeSession } from './resumeSessions';
import type { TrackedRelay } from '../src/core/tunnel/tunnels';
import { notReadyReasons, writeReadiness } from './readiness';

export { DEFAULT_SERVER_HOST, DEFAULT_SERVER_PORT };

export interface WsshServerOptions extends RelayOptions, Partial<ServerLimits> {
  /** The policy in force; called per request, so a reloaded policy applies to the next tunnel. */
  policy: () => HostsPolicy;
  /**
   * The users who may open tunnels; called per request, so a reloaded users
   * file applies to the next tunnel. When given, every tunnel needs HTTP Basic
   * credentials (401 otherwise). @default no authentication
   */
  users?: () => Credentials;
  /** How failed logins from one address and user are slowed down (see failureBackoff.ts). */
  authBackoff?: FailureBackoffOptions;
  /** How many logins one address may have waiting and being checked at once (see auth.ts). */
  authLimits?: AuthLimits;
  /**
   * Origins (`https://host[:port]`) of web pages that may open tunnels. A
   * request with any other `Origin` header is refused (403); WSSH clients
   * send none. @default [] (no web page may)
   */
  allowOrigins?: string[];
  /** How long the TCP connect to the target may take, in ms (then 504). @default {@link DEFAULT_CONNECT_TIMEOUT_MS} */
  connectTimeoutMs?: number;
  /**
   * Whether to take the client address from X-Forwarded-For: `loopback` trusts
   * it only from a proxy on this host (nginx in front); a list names the
   * proxies' addresses and CIDR ranges. @default DEFAULT_TRUST_PROXY ('loopback', clientAddress.ts)
   */
  trustProxy?: TrustProxy;
  /** Receives one line per event (tunnel opened, closed, refused). @default no logging */
  log?: (line: string) => void;
  /** The tunnel tracker to report to; one is made when not given. */
  tracker?: TunnelTracker;
  /** How a burst of new connections is admitted (admission.ts). */
  admission?: AdmissionOptions;
  /**
   * How long a resumable tunnel whose WebSocket broke keeps its connection to
   * the target, waiting for the client to resume it, in ms; 0 offers no
   * resume (today's tunnels). @default {@link DEFAULT_RESUME_TIMEOUT_MS}
   */
  resumeTimeoutMs?: number;
  /** Bytes each side of a resumable tunnel keeps unacknowledged (told to the client). @default DEFAULT_RESUME_WINDOW */
  resumeWindow?: number;
  /**
   * The config files not loaded yet (`wssh server --wait-for-config`), by
   * name: while any is, the server is not ready and refuses new tunnels
   * (503 `not-ready`). @default none
   */
  waitingFor?: () => readonly string[];
}

/** The default of `resumeTimeoutMs` (`wssh server --resume-window`): resumeProtocol.ts says why five minutes. */
export const DEFAULT_RESUME_TIMEOUT_MS = DEFAULT_RESUME_TIMEOUT_SEC * 1000;

/** The default of `connectTimeoutMs` (`wssh server --connect-timeout`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** How long open tunnels may finish on SIGTERM (`wssh server --drain`), in ms. */
export const DEFAULT_SERVER_DRAIN_MS = 30_000;

/**
 * The largest WebSocket message the server accepts from a client, in bytes.
 * Clients send SSH bytes in frames of at most 64 KiB (the relay's reads);
 * this leaves room for any other client without letting one make the server
 * buffer without bound.
 */
export const SERVER_MAX_PAYLOAD = 1024 * 1024;

/** What a request for /metrics from elsewhere is told (403). */
const METRICS_REFUSED = '/metrics is served only to this host and the --trust-proxy addresses, for themselves\n';

/** What a client whose upgrade comes while the server drains is told (503, `draining`). */
const DRAINING_MESSAGE = 'server shutting down: try again';

/** What a client is told while a config file has not loaded (503, `not-ready`); the log names the file. */
const NOT_READY_MESSAGE = 'server not ready: try again later';

/**
 * A refusal of an upgrade: its code (hence the HTTP status, and the
 * REFUSAL_HEADER value), why (told to the client), what the log says
 * (`detail`), and headers the answer needs (a Basic challenge).
 */
export class Refusal extends RefusalError {
  override name = 'Refusal';
  readonly headers: Readonly<Record<string, string>>;

  constructor(refusal: RefusalCode, message: string, options: RefusalErrorOptions & { headers?: Record<string, string> } = {}) {
    super(refusal, message, options);
    this.headers = options.headers ?? {};
  }
}

export class WsshServer extends EventEmitter<{ error: [Error] }> {
  readonly tracker: TunnelTracker;
  readonly metrics: ServerMetrics;
  private readonly web: TunnelHttpServer;
  private readonly wss: WebSocketServer;
  private readonly log: (line: string) => void;
  private readonly connecting = new Set<net.Socket>();
  /**
   * Upgrade requests not yet a tunnel nor refused (a login waiting out its
   * slow-down, a connect), with the client and target for the log line of a
   * refusal at close.
   */
  private readonly upgrading = new Map<Duplex, { client: string; target: string }>();
  private readonly limits: ServerLimits;
  private readonly slots: TunnelSlots;
  private readonly clients: ClientAddresses;
  private readonly auth: BasicAuth | undefined;
  private readonly allowOrigins: ReadonlySet<string>;
  private readonly descriptors: DescriptorAlarm;
  /** Sockets already answered with a refusal: one answer, one count, one log line each. */
  private readonly answered = new WeakSet<Duplex>();
  /** close() was called: upgrades get `draining`. */
  private closing = false;
  /** The authenticated user of each open tunnel, for its log lines. */
  private readonly users = new Map<number, string>();
  /** Resumable tunnels, open or parked, by session key. */
  readonly sessions: ResumeSessions;
  /** Header lines for one upgrade's 101 (a resume offer, a resumed count), read when ws writes it. */
  private readonly responseLines = new WeakMap<http.IncomingMessage, () => string[]>();
  private readonly resumeTimeoutMs: number;

  constructor(private readonly options: WsshServerOptions) {
    super();
    this.log = options.log ?? (() => {});
    this.tracker = options.tracker ?? new TunnelTracker();
    this.descriptors = new DescriptorAlarm(this.log);
    this.metrics = new ServerMetrics(
      this.tracker,
      () => this.descriptors.total,
      options.budget ?? processBudget,
      () => this.sessions,
    );
    this.limits = { ...DEFAULT_LIMITS };
    for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof ServerLimits>) {
      if (options[key] !== undefined) this.limits[key] = options[key];
    }
    this.slots = new TunnelSlots(this.limits);
    this.clients = new ClientAddresses(options.trustProxy);
    // One slow-down for wrong passwords and wrong resume tokens: a guess is a guess.
    const backoff = new FailureBackoff(options.authBackoff);
    this.auth = options.users ? new BasicAuth(options.users, backoff, options.authLimits) : undefined;
    this.sessions = new ResumeSessions(backoff);
    this.resumeTimeoutMs = options.resumeTimeoutMs ?? DEFAULT_RESUME_TIMEOUT_MS;
    this.allowOrigins = new Set((options.allowOrigins ?? []).map(normalizeOrigin));

    // The upgrade request's headers must be in within the handshake timeout (then 408).
    this.web = new TunnelHttpServer({
      headersTimeoutMs: this.limits.handshakeTimeoutMs,
      tracker: this.tracker,
      refuse: (socket, code, reason) => this.refuse(socket, new Refusal(code, reason), ClientAddresses.peer(socket as net.Socket), ''),
      // An accept that found no descriptor: counted and logged once per burst; the server goes on.
      onError: (err) => {
        if (outOfDescriptors(err)) this.descriptors.note('accepting a connection', err as NodeJS.ErrnoException);
        else this.emit('error', err);
      },
    });
    // A burst waits in the admission queue, unread, and Node's header timer
    // above starts only when a connection leaves it: the 408 measures the
    // client's slowness, not this server's backlog.
    admitConnections(this.web.server, options.admission ?? {}, (socket, refusal) =>
      this.refuse(socket, new Refusal('busy', refusal.reason), ClientAddresses.peer(socket), ''),
    );
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: SERVER_MAX_PAYLOAD,
    });
    // Tells our clients that a refusal would have been a status, not a frame
    // after the upgrade: they need not wait for an old server's text.
    this.wss.on('headers', (headers, req) => {
      headers.push(`${SERVER_MARK_HEADER}: ${SERVER_MARK_VALUE}`);
      const lines = this.responseLines.get(req);
      if (lines) headers.push(...lines());
    });
    this.web.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.web.server.on('request', (req, res) => this.onRequest(req, res));

    const who = (id: number) => (this.users.has(id) ? ` user=${this.users.get(id)}` : '');
    this.tracker.on('open', (t) => this.log(`tunnel ${t.id} open client=${t.client} target=${t.target} via=${t.via}${who(t.id)}`));
    this.tracker.on('close', (t) => {
      this.log(
        `tunnel ${t.id} closed client=${t.client} target=${t.target} via=${t.via}${who(t.id)} ` +
          `up=${t.up} down=${t.down} duration=${(t.durationMs / 1000).toFixed(1)}s reason=${JSON.stringify(t.reason)}`,
      );
      this.users.delete(t.id);
    });
    this.tracker.on('refused', (r) => this.log(`tunnel refused client=${r.client} target=${r.target} status=${r.status} reason=${JSON.stringify(r.reason)}`));
  }

  listen(port = DEFAULT_SERVER_PORT, host = DEFAULT_SERVER_HOST): Promise<AddressInfo> {
    return this.web.listen(port, host);
  }

  address(): AddressInfo | null {
    return this.web.address();
  }

  /** Tunnels open or being opened (what --max-tunnels counts). */
  get slotsInUse(): number {
    return this.slots.inUse;
  }

  /** Why the server takes no new tunnels now (GET /readyz); empty when it does. */
  notReadyReasons(): string[] {
    return notReadyReasons({
      draining: this.closing,
      slotsInUse: this.slots.inUse,
      maxTunnels: this.limits.maxTunnels,
      waitingFor: this.options.waitingFor?.() ?? [],
    });
  }

  /** Logins being checked now: waiting out a slow-down or hashing. They hold no slot. */
  get loginsPending(): number {
    return this.auth?.pending ?? 0;
  }

  /**
   * Stops taking new tunnels (503 `draining`, and /readyz 503); open tunnels
   * may finish within `drainMs`, then they are aborted. It listens until the
   * drain ends, so that the probes are answered and a refused client is told
   * why. Resolves when every tunnel is closed.
   */
  close(drainMs = 0): Promise<void> {
    this.closing = true;
    const stopPending = () => {
      for (const socket of this.connecting) socket.destroy();
      // Told, rather than cut: a client can try another server at once.
      for (const [socket, { client, target }] of this.upgrading) this.refuse(socket, new Refusal('draining', DRAINING_MESSAGE), client, target);
    };
    return this.web.close(drainMs, 'server shutting down', stopPending, { listenWhileDraining: true });
  }

  /** Plain HTTP: the health and metrics endpoints, and 426 for the rest. */
  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0];
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (get && path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end('{"status":"ok"}\n');
      return;
    }
    if (get && path === '/readyz') {
      writeReadiness(res, this.notReadyReasons());
      return;
    }
    if (get && path === '/metrics') {
      // Live byte counters time a user's keystrokes: for the gateway and its monitoring only.
      if (!this.clients.insider(req)) {
        res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close' });
        res.end(METRICS_REFUSED);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(this.metrics.prometheus());
      return;
    }
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close', Upgrade: 'websocket' });
    res.end('this is a WSSH server: connect with a WSSH client (a WebSocket per tunnel)\n');
  }

  private async onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    const client = this.clients.of(req);
    const pending = { client, target: '' };
    this.upgrading.set(socket, pending);
    socket.once('close', () => this.upgrading.delete(socket));
    const url = req.url ?? '/';
    let requested = '';
    let slot: Slot | undefined;
    const watch = watchClient(socket, head);
    try {
      if (Buffer.byteLength(url) > this.limits.maxPathLength) {
        throw new Refusal('path-too-long', `request path over ${this.limits.maxPathLength} bytes`);
      }
      // Parsed now for the log line; a bad target is refused only after
      // authentication, so that only users learn what the server accepts.
      let target: Target | Refusal;
      try {
        target = targetFromUrl(url);
        requested = pending.target = formatTarget(target);
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        target = err;
      }
      const bad = handshakeProblem(req.method, req.headers) ?? originProblem(req.headers.origin, this.allowOrigins);
      if (bad) throw new Refusal(bad.code, bad.reason, { headers: bad.headers });
      // Before the login: without its users file the server cannot check one.
      const waiting = this.options.waitingFor?.() ?? [];
      if (waiting.length > 0) throw new Refusal('not-ready', NOT_READY_MESSAGE, { detail: `${NOT_READY_MESSAGE} (waiting for ${waiting.join(', ')})` });

      // Before a slot is taken: a login waiting out its slow-down must not hold one.
      const user = await this.authenticate(req, client, watch.gone);

      let asked: ReturnType<typeof parseUpgradeRequest>;
      try {
        asked = parseUpgradeRequest(req.headers);
      } catch (err) {
        if (!(err instanceof ResumeProtocolError)) throw err;
        throw new Refusal('malformed', `bad resume request: ${err.message}`);
      }
      // A resume takes no new slot (its session kept its own) and is welcome while draining: the session is here.
      if (asked.kind === 'resume') return await this.resumeSession(req, socket, watch, asked, user, pending);

      // An upgrade that arrived (or finished its login) while the server drains gets no new tunnel.
      if (this.closing) throw new Refusal('draining', DRAINING_MESSAGE);
      const taken = this.slots.take(client);
      if (!isSlot(taken)) throw new Refusal(taken.code, taken.reason);
      slot = taken;

      if (target instanceof Refusal) throw target;
      const policy = this.options.policy();
      const decision = policy.decide(target);
      if (!decision.allow) throw new Refusal('denied', decision.reason);
      const tcp = await this.connectTarget(await this.checkedAddress(policy, decision.target), socket);
      const resolved = formatTarget(decision.target);
      // ws answers a malformed handshake itself and never calls back: then the
      // client's socket closes and the target connection must go too.
      const tunnelSlot = slot;
      const onAbandoned = () => {
        tcp.destroy();
        tunnelSlot.release();
      };
      socket.once('close', onAbandoned);
      // Resume is offered under a key no session holds (checked in the same tick as the session is added below).
      const sessionKey = asked.kind === 'offer' && this.resumeTimeoutMs > 0 && this.sessions.isFree(asked.sessionKey) ? asked.sessionKey : undefined;
      const token = newResumeToken();
      if (sessionKey) this.responseLines.set(req, () => offerResponseLines({ token, window: this.resumeWindow, timeoutSec: this.resumeTimeoutSec }));
      // Synchronous up to the callback, where ws reads the socket itself:
      // no byte can arrive in between.
      this.wss.handleUpgrade(req, socket, watch.stop(), (ws) => {
        socket.off('close', onAbandoned);
        this.upgrading.delete(socket);
        const id = this.tracker.allocateId();
        if (user !== undefined) this.users.set(id, user);
        const relay = sessionKey ? this.startSession(tcp, ws, { key: sessionKey, token, user, target, id }) : new Relay(tcp, ws, this.options);
        relay.once('close', () => tunnelSlot.release());
        this.closeWhenIdle(tcp, ws, relay);
        this.tracker.track(id, relay, 'server', { target: requested, via: resolved, client });
      });
    } catch (err) {
      slot?.release();
      watch.stop();
      const refusal =
        err instanceof Refusal
          ? err
          : outOfDescriptors(err)
            ? new Refusal('descriptors', 'server out of resources', { detail: descriptorsMessage(err as NodeJS.ErrnoException), cause: err })
            : new Refusal('unreachable', (err as Error).message, { cause: err });
      this.refuse(socket, refusal, client, requested);
    }
  }

  /**
   * The user of an upgrade, with users.yml: its Basic credentials checked
   * after the slow-down of its address. Undefined without users.yml. Throws
   * a Refusal for missing or wrong credentials, a login backlog, or a client
   * that went away meanwhile.
   */
  private async authenticate(req: http.IncomingMessage, client: string, gone: AbortSignal): Promise<string | undefined> {
    if (!this.auth) return undefined;
    let result;
    try {
      result = await this.auth.check(req.headers.authorization, client, gone);
    } catch (err) {
      if (gone.aborted) throw new Refusal('client-gone', REFUSALS['client-gone'].message);
      throw err;
    }
    if (!result.ok && result.busy) throw new Refusal('login-backlog', result.reason, { detail: result.detail });
    if (!result.ok) {
      throw new Refusal('unauthorized', result.reason, { detail: result.detail, headers: { 'WWW-Authenticate': BASIC_CHALLENGE } });
    }
    if (gone.aborted) throw new Refusal('client-gone', REFUSALS['client-gone'].message);
    return result.user;
  }

  /** The offer's window, in bytes. */
  private get resumeWindow(): number {
    return this.options.resumeWindow ?? DEFAULT_RESUME_WINDOW;
  }

  /** The offer's timeout, in whole seconds (at least 1). */
  private get resumeTimeoutSec(): number {
    return Math.max(1, Math.ceil(this.resumeTimeoutMs / 1000));
  }

  /** A new resumable tunnel: its relay keeps the target connection across breaks; the session is held until it closes. */
  private startSession(tcp: net.Socket, ws: WebSocket, session: Omit<ResumeSession, 'relay'>): ResumableRelay {
    const relay = new ResumableRelay(tcp, {
      highWaterMark: this.options.highWaterMark,
      budget: this.options.budget,
      keepaliveMs: this.options.keepaliveMs,
      lingerMs: this.options.lingerMs,
      window: this.resumeWindow,
      resumeTimeoutMs: this.resumeTimeoutSec * 1000,
    });
    relay.attach(ws, 0);
    this.sessions.add({ ...session, relay });
    const { id } = session;
    let brokeAt = 0;
    relay.on('detached', (reason) => {
      brokeAt = Date.now();
      this.tracker.setReconnecting(id, true);
      this.log(`tunnel ${id} parked: ${reason}; kept ${this.resumeTimeoutSec}s for a resume (${relay.unacknowledged} bytes unacknowledged)`);
    });
    relay.on('attached', ({ replayed }) => {
      if (relay.attachments === 1) return;
      this.sessions.resumed++;
      this.tracker.setReconnecting(id, false);
      this.log(`tunnel ${id} resumed after ${((Date.now() - brokeAt) / 1000).toFixed(1)}s: ${replayed} bytes replayed (resume ${relay.resumes})`);
    });
    relay.once('close', (result) => {
      if (result.reason.startsWith('not resumed within')) this.sessions.expired++;
    });
    return relay;
  }

  /**
   * A resume: the session found by its key, token and user, the policy asked
   * again for its target, the replay checked, then the 101 with the count of
   * bytes this side received and the new WebSocket attached. Throws a
   * Refusal otherwise (onUpgrade answers it).
   */
  private async resumeSession(
    req: http.IncomingMessage,
    socket: Duplex,
    watch: { gone: AbortSignal; stop(): Buffer },
    asked: ResumeRequest,
    user: string | undefined,
    pending: { client: string; target: string },
  ): Promise<void> {
    const unknown = (detail: string) => new Refusal('resume-unknown', REFUSALS['resume-unknown'].message, { detail });
    if (this.resumeTimeoutMs <= 0) throw unknown('resume is off on this server');
    let found;
    try {
      found = await this.sessions.find(asked.sessionKey, asked.token, user, pending.client, watch.gone);
    } catch (err) {
      if (watch.gone.aborted) throw new Refusal('client-gone', REFUSALS['client-gone'].message);
      throw err;
    }
    if (typeof found === 'string') throw unknown(`resume of session ${asked.sessionKey}: ${found}`);
    const { relay, target, id } = found;
    pending.target = formatTarget(target);
    // Never a target the policy in force refuses: a reload may have denied it since.
    const decision = this.options.policy().decide(target);
    if (!decision.allow) {
      relay.end(`the server's policy no longer allows ${pending.target}`);
      throw new Refusal('denied', decision.reason);
    }
    try {
      relay.checkResume(asked.received);
    } catch (err) {
      if (!(err instanceof ResumeProtocolError)) throw err;
      relay.end(err.message);
      throw unknown(`resume of tunnel ${id}: ${err.message}`);
    }
    if (watch.gone.aborted) throw new Refusal('client-gone', REFUSALS['client-gone'].message);
    // The old WebSocket, if this side has not seen it break, goes now: what
    // it would still deliver is not counted, and the peer replays it.
    relay.detach('replaced by a resume');
    this.responseLines.set(req, () => resumedResponseLines(relay.received));
    this.wss.handleUpgrade(req, socket, watch.stop(), (ws) => {
      this.upgrading.delete(socket);
      try {
        relay.attach(ws, asked.received);
      } catch (err) {
        this.log(`tunnel ${id} resume failed: ${(err as Error).message}`);
      }
    });
  }

  /**
   * After a policy reload: parked sessions whose target the new policy
   * refuses end now (their connection to the target closes), instead of
   * waiting for a resume that would be refused.
   */
  policyChanged(): void {
    const policy = this.options.policy();
    for (const { relay, target, id } of this.sessions.all()) {
      if (!relay.parked) continue;
      const decision = policy.decide(target);
      if (decision.allow) continue;
      this.log(`tunnel ${id} ended while parked: the reloaded policy denies ${formatTarget(target)}`);
      relay.end(`the server's policy no longer allows ${formatTarget(target)}`);
    }
  }

  /** Answers `refusal` on a socket that is not a tunnel, logs it and counts it. */
  private refuse(socket: Duplex, refusal: Refusal, client: string, target: string): void {
    // Answered already: at close, a pending upgrade is told the server is draining (close()).
    if (this.answered.has(socket)) return;
    this.answered.add(socket);
    this.metrics.countRefusal(refusal.refusal);
    this.tracker.refuse({ target, client, code: refusal.refusal, reason: refusal.detail });
    // The code in a header of its own: a new client tells apart what one status covers; an old one ignores it.
    writeRefusal(socket, refusal.status, refusal.message, { ...refusal.headers, [REFUSAL_HEADER]: refusal.refusal });
  }

  /**
   * With an idle timeout: closes the tunnel when no byte moved either way for
   * that long. The TCP socket's own timeout measures exactly that, since every
   * byte of the tunnel is read from or written to it; WebSocket pings never
   * touch it, so they do not keep an idle tunnel open.
   */
  private closeWhenIdle(tcp: net.Socket, ws: WebSocket, relay: TrackedRelay): void {
    const idleMs = this.limits.idleTimeoutMs;
    if (!(idleMs > 0)) return;
    tcp.setTimeout(idleMs, () => {
      // The close frame tells the client why (1001: going away) before the
      // connection goes; abort() then ends both sides and records the reason.
      // A resumable tunnel's abort closes with 1011 and the reason itself (1001 would be a break to resume from).
      if (!(relay instanceof ResumableRelay)) ws.close(1001, closeReason('idle timeout'));
      relay.abort(`idle timeout: no bytes either way for ${idleMs / 1000}s`);
    });
    relay.once('close', () => tcp.setTimeout(0));
  }

  /**
   * With address rules in hosts.yml: the target's host resolved, every
   * address checked, and the first one to connect to (so that the address
   * connected to is the one checked). Without: the target as it is.
   */
  private async checkedAddress(policy: HostsPolicy, target: Target): Promise<Target> {
    if (!policy.hasAddressRules) return target;
    let addresses: string[];
    if (net.isIP(target.host)) addresses = [target.host];
    else {
      try {
        addresses = (await dns.lookup(target.host, { all: true })).map((a) => a.address);
      } catch (err) {
        throw new Refusal('unreachable', connectFailure(formatTarget(target), err as NodeJS.ErrnoException), { cause: err });
      }
    }
    const denied = policy.deniedAddress(formatTarget(target), addresses);
    if (denied) throw new Refusal('denied', denied);
    return { host: addresses[0], port: target.port };
  }

  /** Connects to the target; gives up when the client's socket goes away first. */
  private connectTarget(target: Target, client: Duplex): Promise<net.Socket> {
    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const where = formatTarget(target);
    return new Promise((resolve, reject) => {
      const tcp = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
      this.connecting.add(tcp);
      const done = () => {
        clearTimeout(timer);
        this.connecting.delete(tcp);
        client.off('close', onClientGone);
        tcp.removeAllListeners('connect');
        tcp.removeAllListeners('error');
      };
      const onClientGone = () => {
        done();
        tcp.destroy();
        reject(new Refusal('client-gone', REFUSALS['client-gone'].message));
      };
      const timer = setTimeout(() => {
        done();
        tcp.destroy();
        reject(new Refusal('connect-timeout', `timed out connecting to ${where} after ${timeoutMs} ms`));
      }, timeoutMs);
      client.once('close', onClientGone);
      tcp.once('connect', () => {
        done();
        tcp.setNoDelay(true);
        tcp.setKeepAlive(true, 60_000);
        tcp.on('error', () => {}); // the relay reports errors from here on
        resolve(tcp);
      });
      tcp.once('error', (err: NodeJS.ErrnoException) => {
        done();
        if (outOfDescriptors(err)) {
          this.descriptors.note(`a connect to ${where}`, err);
          reject(
            new Refusal('descriptors', 'server out of file descriptors: try again later', {
              detail: `out of file descriptors (${err.code}) connecting to ${where}`,
              cause: err,
            }),
          );
          return;
        }
        const timedOut = err.code === 'ETIMEDOUT';
        reject(new Refusal(timedOut ? 'connect-timeout' : 'unreachable', connectFailure(where, err), { cause: err }));
      });
    });
  }
}

/** The target is the last path segment, percent-decoded (see the wire contract). */
function targetFromUrl(url: string): Target {
  const path = url.split('?', 1)[0];
  const segment = path.slice(path.lastIndexOf('/') + 1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new Refusal('bad-target', `bad target "${peerText(segment, 100)}": broken %-escape`);
  }
  try {
    return parseTarget(decoded);
  } catch (err) {
    if (err instanceof TargetError) throw new Refusal('bad-target', `bad target: ${peerText(err.message)}`);
    throw err;
  }
}

/** Bytes a client may send after its upgrade request before it has an answer. */
const MAX_EARLY_BYTES = 64 * 1024;

/**
 * Watches the client's socket while its upgrade waits (the failed-login
 * backoff, the target's TCP connect). A socket nobody reads never notices
 * that its peer left, so it is read here: a FIN or a reset destroys it, which
 * fires `gone` and every 'close' listener, and the slot and the pending
 * connect are given up at once. A WebSocket client sends nothing before the
 * 101; what does come is kept and handed to ws by `stop()`, after `head`.
 */
function watchClient(socket: Duplex, head: Buffer): { gone: AbortSignal; stop(): Buffer } {
  const controller = new AbortController();
  const early: Buffer[] = [head];
  let earlyBytes = 0;
  const onData = (chunk: Buffer) => {
    earlyBytes += chunk.length;
    if (earlyBytes > MAX_EARLY_BYTES) socket.destroy();
    else early.push(chunk);
  };
  // allowHalfOpen: the HTTP server keeps a socket open after the peer's FIN.
  const onEnd = () => socket.destroy();
  const onClose = () => controller.abort();
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onClose);
  return {
    gone: controller.signal,
    stop() {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onClose);
      return Buffer.concat(early);
    },
  };
}

/** A failed TCP connect to the target, in words (the client and the log see it). */
function connectFailure(where: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${where} (${err.code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${where} (${err.code})`;
    default:
      return `cannot connect to ${where}: ${err.code ?? err.message}`;
  }
}
