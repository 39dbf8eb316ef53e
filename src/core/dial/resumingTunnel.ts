/**
 * A client's tunnel that outlives its WebSocket (issue #20; the wire is in
 * tunnel/resumeProtocol.ts, the byte accounting in tunnel/resumableRelay.ts).
 *
 * The first dial offers resume with a fresh session key. A server that can
 * answers with a token: the tunnel then runs on a ResumableRelay, and when its
 * WebSocket breaks (closed by a proxy or a reload, a reset, pings unanswered
 * after a sleep or a roam) this side dials again, through the same dial as
 * the first one (the caller's `DialAttempt`: the same proxy choice, sign-in,
 * trust and client certificate), with a backoff, until the server's resume
 * timeout has passed. The SSH client's own connection (PuTTY's to the local
 * proxy, ssh's ProxyCommand pipes) never sees the break.
 *
 * A server that does not answer the offer (an original wssh, resume off)
 * gets today's tunnel: a plain Relay, byte for byte the same wire.
 *
 * Ends with a message, never silently: a server that no longer holds the
 * session (`resume-unknown`: it expired, or the resume reached another
 * server), refuses the target now, or the timeout passed.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { Relay, type RelayOptions, type RelayResult } from '../tunnel/relay';
import { ResumableRelay } from '../tunnel/resumableRelay';
import {
  ResumeProtocolError,
  newSessionKey,
  offerHeaders,
  parseOfferResponse,
  parseResumedResponse,
  resumeRequestHeaders,
  type ResumeOffer,
} from '../tunnel/resumeProtocol';
import { TunnelError } from '../tunnel/tunnelError';
import type { RefusalCode } from '../tunnel/refusals';
import { formatBytes } from '../../shared/traffic';

/** One dial of the tunnel's WebSocket with extra request headers; resolves open and paused, as dial() does. */
export type DialAttempt = (extra: {
  headers: Record<string, string>;
  onUpgrade: (response: IncomingMessage) => void;
  signal?: AbortSignal;
}) => Promise<WebSocket>;

/**
 * The ping interval of a resumable tunnel on the client, in ms: two missed
 * pongs (6 to 9 s) are a break, where a plain tunnel waits a minute. A false
 * alarm (the server not reading for that long while nothing comes back) costs
 * one resume, not the session; a real break found sooner is a shorter pause.
 */
export const RESUME_KEEPALIVE_MS = 3000;

/** The waits between resume attempts: at once, then doubling up to the last, each with ±20 % jitter so a thousand tunnels do not redial in step. */
const RETRY_DELAYS_MS = [0, 500, 1000, 2000, 4000, 8000];
const MAX_RETRY_DELAY_MS = 10_000;

/**
 * How long every attempt may find the gateway's port refusing connections
 * before the session is given up: a host that answers with a reset has
 * nothing listening, so the server that held the session is gone (it cannot
 * outlive its process), unless something in front of it (nginx) is
 * restarting, which takes a second or two. A network that is away fails
 * otherwise (no route, a timeout) and is waited for to the end.
 */
export const REFUSED_GIVE_UP_MS = 30_000;

/** Refusals a retry cannot change: the session is gone, or the way to it is set up wrongly. */
const FINAL_REFUSALS: ReadonlySet<RefusalCode> = new Set<RefusalCode>([
  'resume-unknown',
  'denied',
  'origin',
  'auth-required',
  'bad-target',
  'proxy-config',
  'trust-config',
  'client-certificate',
]);

export interface TunnelOptions extends RelayOptions {
  /** Offer resume on the first dial. @default true */
  resume?: boolean;
  /** Hears the break, each failed attempt, the resume and the give-up, one line each (never a secret). */
  log?: (line: string) => void;
  /** Abandons the first dial (the SSH client went away). */
  signal?: AbortSignal;
  /** Bytes to send before any the stream gives (a client's bytes after its CONNECT, when its stream has ended already). */
  head?: Buffer;
}

/** The first dial's result: the WebSocket and, when the server took the offer, the session to resume. */
export interface FirstDial {
  ws: WebSocket;
  session?: { key: string; offer: ResumeOffer };
}

/** The first dial, offering resume unless `options.resume` is false. Throws what the dial throws (a TunnelError). */
export async function dialTunnel(attempt: DialAttempt, options: TunnelOptions = {}): Promise<FirstDial> {
  if (options.resume === false) return { ws: await attempt({ headers: {}, onUpgrade: () => {}, signal: options.signal }) };
  const key = newSessionKey();
  let offer: ResumeOffer | undefined;
  const ws = await attempt({
    headers: offerHeaders(key),
    onUpgrade: (response) => {
      try {
        offer = parseOfferResponse(response.headers);
      } catch (err) {
        if (!(err instanceof ResumeProtocolError)) throw err;
        options.log?.(`the server's resume offer is malformed (${err.message}): this tunnel cannot be resumed`);
      }
    },
    signal: options.signal,
  });
  return { ws, session: offer && { key, offer } };
}

/** A tunnel's relay as its owner sees it: a plain Relay, or a resumable one. */
export type TunnelRelay = Relay | ResumingTunnel;

/** Relays `stream` over the first dial's WebSocket: resumable when the server offered it, plain otherwise. */
export function startTunnel(stream: Duplex, first: FirstDial, attempt: DialAttempt, options: TunnelOptions = {}): TunnelRelay {
  if (first.session) return new ResumingTunnel(stream, first.ws, first.session, attempt, options);
  if (options.head?.length) first.ws.send(options.head, { binary: true });
  const relay = new Relay(stream, first.ws, options);
  relay.toWebSocket += options.head?.length ?? 0;
  return relay;
}

interface ResumingTunnelEvents {
  /** A text frame from the server that is not an ack. */
  text: [message: string];
  /** The WebSocket broke; attempts to resume follow. */
  reconnecting: [reason: string];
  /** Resumed: after how long, and how many bytes this side sent again. */
  resumed: [info: { afterMs: number; replayed: number }];
  /** The session is over; once. */
  close: [result: ResumingResult];
}

/** How a resumable tunnel ended. */
export interface ResumingResult extends RelayResult {
  /** Times its WebSocket was resumed. */
  resumes: number;
  /** Bytes this side sent again after breaks. */
  replayed: number;
  /** It ended while broken: the SSH session was lost (the reason says why: not resumed in time, refused). */
  lost: boolean;
}

export class ResumingTunnel extends EventEmitter<ResumingTunnelEvents> {
  readonly done: Promise<ResumingResult>;
  private readonly relay: ResumableRelay;
  private readonly log: (line: string) => void;
  /** Cut short the wait before the next attempt (reconnectNow), and stop at the end. */
  private wait: AbortController | undefined;
  private closed = false;
  private redialing = false;
  /** The WebSocket broke and no resume has succeeded since. */
  private broken = false;

  constructor(
    stream: Duplex,
    ws: WebSocket,
    private readonly session: { key: string; offer: ResumeOffer },
    private readonly attempt: DialAttempt,
    options: TunnelOptions,
  ) {
    super();
    this.log = options.log ?? (() => {});
    // Pings off (--keepalive 0) stay off: a break is then found by the connection's own end only.
    const keepaliveMs = options.keepaliveMs === 0 ? 0 : Math.min(options.keepaliveMs ?? RESUME_KEEPALIVE_MS, RESUME_KEEPALIVE_MS);
    this.relay = new ResumableRelay(stream, {
      highWaterMark: options.highWaterMark,
      budget: options.budget,
      lingerMs: options.lingerMs,
      keepaliveMs,
      window: session.offer.window,
      // The server forgets the session after this; trying longer is pointless.
      resumeTimeoutMs: session.offer.timeoutSec * 1000,
      head: options.head,
    });
    this.done = new Promise((resolve) => this.once('close', resolve));
    this.relay.on('text', (message) => this.emit('text', message));
    this.relay.on('detached', (reason) => void this.redial(reason));
    this.relay.once('close', (result) => {
      this.closed = true;
      this.wait?.abort();
      if (this.broken) this.log(`the session is lost: ${result.reason}`);
      this.emit('close', {
        lost: this.broken,
        reason: result.reason,
        toWebSocket: result.sent,
        toStream: result.received,
        peerMessage: result.peerMessage,
        resumes: result.resumes,
        replayed: result.replayed,
      });
    });
    this.relay.attach(ws, 0);
  }

  get toWebSocket(): number {
    return this.relay.sent;
  }

  get toStream(): number {
    return this.relay.received;
  }

  get resumes(): number {
    return this.relay.resumes;
  }

  /** Whether the WebSocket is broken and a resume is being tried. */
  get reconnecting(): boolean {
    return this.redialing;
  }

  /** Gives up the session: the server is told (1011) and ends its side, the stream is ended. */
  abort(reason: string): void {
    this.relay.end(reason);
  }

  /**
   * The network changed or the computer woke up: the WebSocket is probably
   * dead, so do not wait for pings to say so. Drops it and resumes now, or,
   * while resuming, makes the next attempt now.
   */
  reconnectNow(reason: string): void {
    if (this.closed) return;
    if (this.redialing) this.wait?.abort();
    else this.relay.detach(reason);
  }

  private async redial(reason: string): Promise<void> {
    if (this.redialing || this.closed) return;
    this.redialing = true;
    this.broken = true;
    const brokeAt = Date.now();
    this.refusedSince = undefined;
    this.emit('reconnecting', reason);
    this.log(`connection lost (${reason}); resuming`);
    try {
      for (let n = 0; !this.closed; n++) {
        await this.pause(retryDelay(n));
        if (this.closed) return;
        const outcome = await this.tryResume();
        if (outcome === 'resumed') {
          this.broken = false;
          const afterMs = Date.now() - brokeAt;
          const replayed = this.lastReplayed;
          this.log(`resumed after ${(afterMs / 1000).toFixed(1)} s, ${formatBytes(replayed)} replayed`);
          this.emit('resumed', { afterMs, replayed });
          return;
        }
        if (outcome === 'final') return;
        this.log(`resume attempt ${n + 1} failed: ${outcome}`);
      }
    } finally {
      this.redialing = false;
    }
  }

  private lastReplayed = 0;
  /** Since when every attempt found the port refusing connections (REFUSED_GIVE_UP_MS). */
  private refusedSince: number | undefined;

  /** One attempt: 'resumed', 'final' (the session was ended with the reason), or why it failed (try again). */
  private async tryResume(): Promise<'resumed' | 'final' | string> {
    const received = this.relay.received;
    let serverReceived: number | undefined;
    let malformed: ResumeProtocolError | undefined;
    let ws: WebSocket;
    try {
      ws = await this.attempt({
        headers: resumeRequestHeaders({ sessionKey: this.session.key, token: this.session.offer.token, received }),
        onUpgrade: (response) => {
          try {
            serverReceived = parseResumedResponse(response.headers);
          } catch (err) {
            if (!(err instanceof ResumeProtocolError)) throw err;
            malformed = err;
          }
        },
      });
    } catch (err) {
      if (err instanceof TunnelError && FINAL_REFUSALS.has(err.refusal)) {
        this.relay.end(`the session could not be resumed: ${err.message}`);
        return 'final';
      }
      if ((err as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ECONNREFUSED') this.refusedSince = undefined;
      else if (this.refusedSince === undefined) this.refusedSince = Date.now();
      else if (Date.now() - this.refusedSince >= REFUSED_GIVE_UP_MS) {
        this.relay.end(`the session could not be resumed: for ${REFUSED_GIVE_UP_MS / 1000} s ${(err as Error).message}`);
        return 'final';
      }
      return (err as Error).message;
    }
    if (this.closed) {
      ws.terminate();
      return 'final';
    }
    if (serverReceived === undefined) {
      // A server that ignored the resume opened a new connection to the target: never splice that into the session.
      ws.terminate();
      this.relay.end(
        `the session could not be resumed: the server answered the resume as a new tunnel (${malformed?.message ?? 'no count of bytes received'})`,
      );
      return 'final';
    }
    const before = this.relay.replayed;
    try {
      this.relay.attach(ws, serverReceived);
    } catch (err) {
      // A count outside what this side kept ended the session (the relay says why); a WebSocket that closed meanwhile is tried again.
      if (err instanceof ResumeProtocolError) return 'final';
      return (err as Error).message;
    }
    this.lastReplayed = this.relay.replayed - before;
    return 'resumed';
  }

  /** Waits `ms`, or less when reconnectNow() or the end cuts it short. */
  private pause(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    const wait = new AbortController();
    this.wait = wait;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wait.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** The wait before attempt `n` (0-based), with jitter. */
function retryDelay(n: number): number {
  const base = n < RETRY_DELAYS_MS.length ? RETRY_DELAYS_MS[n] : MAX_RETRY_DELAY_MS;
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
