/**
 * The WSSH server: accepts a WebSocket per tunnel, takes the target from the
 * last path segment, asks the hosts.yml policy, connects over TCP, and only
 * then accepts the upgrade. A refusal is therefore an HTTP status on the
 * upgrade (400 bad target, 403 denied, 502 unreachable, 504 timed out) with a
 * one-line reason, which the client side turns into an answer PuTTY shows.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { WebSocketServer } from 'ws';
import { Relay, RelayOptions } from '../src/core/relay';
import { DEFAULT_MAX_PAYLOAD } from '../src/core/dialer';
import { Target, TargetError, formatTarget, parseTarget } from '../src/core/target';
import { TunnelTracker } from '../src/core/tunnels';
import { writeRefusal } from '../src/core/httpRefusal';
import type { HostsPolicy } from './hostsPolicy';

export interface WsshServerOptions extends RelayOptions {
  /** The policy in force; called per request, so a reloaded policy applies to the next tunnel. */
  policy: () => HostsPolicy;
  /** How long the TCP connect to the target may take, in ms (then 504). @default 10000 */
  connectTimeoutMs?: number;
  /**
   * Whether to take the client address from X-Forwarded-For: `loopback` trusts
   * it only from a proxy on this host (nginx in front). @default 'loopback'
   */
  trustProxy?: 'loopback' | 'always' | 'never';
  /** How long the upgrade request's headers may take, in ms. @default 10000 */
  headersTimeoutMs?: number;
  /** Receives one line per event (tunnel opened, closed, refused). @default no logging */
  log?: (line: string) => void;
  /** The tunnel tracker to report to; one is made when not given. */
  tracker?: TunnelTracker;
}

export const DEFAULT_SERVER_PORT = 4567;
export const DEFAULT_SERVER_HOST = '127.0.0.1';
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** A refusal to open a tunnel: the HTTP status and why. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class WsshServer extends EventEmitter<{ error: [Error] }> {
  readonly tracker: TunnelTracker;
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly log: (line: string) => void;
  private readonly connecting = new Set<net.Socket>();

  constructor(private readonly options: WsshServerOptions) {
    super();
    this.log = options.log ?? (() => {});
    this.tracker = options.tracker ?? new TunnelTracker();
    const headersTimeout = options.headersTimeoutMs ?? 10_000;
    this.server = http.createServer({
      headersTimeout,
      requestTimeout: headersTimeout,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 4)),
    });
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: DEFAULT_MAX_PAYLOAD,
    });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.server.on('request', (req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close', Upgrade: 'websocket' });
      res.end('this is a WSSH server: connect with a WSSH client (a WebSocket per tunnel)\n');
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
    this.server.on('error', (err) => this.emit('error', err));

    this.tracker.on('open', (t) => this.log(`tunnel ${t.id} open client=${t.client} target=${t.target} via=${t.via}`));
    this.tracker.on('close', (t) =>
      this.log(
        `tunnel ${t.id} closed client=${t.client} target=${t.target} via=${t.via} ` +
          `up=${t.up} down=${t.down} duration=${(t.durationMs / 1000).toFixed(1)}s reason=${JSON.stringify(t.reason)}`,
      ),
    );
    this.tracker.on('refused', (r) =>
      this.log(`tunnel refused client=${r.client} target=${r.target} status=${r.status} reason=${JSON.stringify(r.reason)}`),
    );
  }

  listen(port = DEFAULT_SERVER_PORT, host = DEFAULT_SERVER_HOST): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | null {
    return this.server.address() as AddressInfo | null;
  }

  /**
   * Stops accepting; open tunnels may finish within `drainMs`, then they are
   * aborted. Resolves when every tunnel is closed.
   */
  async close(drainMs = 0): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const socket of this.connecting) socket.destroy();
    if (this.tracker.size > 0 && drainMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        const check = () => {
          if (this.tracker.size > 0) return;
          clearTimeout(timer);
          this.tracker.off('close', check);
          resolve();
        };
        this.tracker.on('close', check);
      });
    }
    this.tracker.abortAll('server shutting down');
    this.server.closeAllConnections();
    await closed;
  }

  private clientAddress(req: http.IncomingMessage): string {
    const peer = req.socket.remoteAddress ?? '';
    const forwarded = req.headers['x-forwarded-for'];
    const trust = this.options.trustProxy ?? 'loopback';
    const trusted = trust === 'always' || (trust === 'loopback' && isLoopback(peer));
    if (!trusted || typeof forwarded !== 'string') return peer;
    // nginx's $proxy_add_x_forwarded_for appends the address it saw last: the
    // rightmost entry is the one our trusted proxy vouches for.
    const last = forwarded.split(',').pop()!.trim();
    return net.isIP(last) ? last : peer;
  }

  private async onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    const client = this.clientAddress(req);
    let requested = '';
    try {
      if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || !req.headers['sec-websocket-key']) {
        throw new Refusal(400, 'not a WebSocket upgrade');
      }
      const target = targetFromUrl(req.url ?? '/');
      requested = formatTarget(target);
      const decision = this.options.policy().decide(target);
      if (!decision.allow) throw new Refusal(403, decision.reason);
      const tcp = await this.connectTarget(decision.target, socket);
      const resolved = formatTarget(decision.target);
      // ws answers a malformed handshake itself and never calls back: then the
      // client's socket closes and the target connection must go too.
      const onAbandoned = () => tcp.destroy();
      socket.once('close', onAbandoned);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('close', onAbandoned);
        const relay = new Relay(tcp, ws, this.options);
        this.tracker.track(this.tracker.allocateId(), relay, 'server', { target: requested, via: resolved, client });
      });
    } catch (err) {
      const refusal = err instanceof Refusal ? err : new Refusal(502, (err as Error).message);
      this.tracker.refuse({ target: requested, client, status: refusal.status, reason: refusal.message });
      writeRefusal(socket, refusal.status, refusal.message);
    }
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
        reject(new Refusal(502, 'the client went away'));
      };
      const timer = setTimeout(() => {
        done();
        tcp.destroy();
        reject(new Refusal(504, `timed out connecting to ${where} after ${timeoutMs} ms`));
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
        reject(new Refusal(err.code === 'ETIMEDOUT' ? 504 : 502, connectFailure(where, err)));
      });
    });
  }
}

/** The target is the last path segment, percent-decoded (see the wire contract). */
export function targetFromUrl(url: string): Target {
  const path = url.split('?', 1)[0];
  const segment = path.slice(path.lastIndexOf('/') + 1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new Refusal(400, `bad target "${segment.slice(0, 100)}": broken %-escape`);
  }
  try {
    return parseTarget(decoded);
  } catch (err) {
    if (err instanceof TargetError) throw new Refusal(400, `bad target: ${err.message}`);
    throw err;
  }
}

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

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
