/**
 * How a dial reaches the endpoint's host, below the WebSocket: a TCP
 * connection, direct or through an HTTP proxy's CONNECT tunnel
 * (proxyTunnel.ts), and for wss:// TLS on top.
 *
 * Either way the socket is handed to the HTTP client only once the TLS
 * handshake is over and the certificate passed `PreparedTrust.verify`, so the
 * upgrade request, with its Basic credentials, is never written to a server
 * that has not proven who it is.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { PreparedTrust } from './trust/trust';
import type { ProxySignInRules, UpstreamProxy } from '../upstream/upstreamProxy';
import { openProxyTunnel } from '../upstream/proxyTunnel';
import { abortError } from '../tunnel/abortError';
import { traceSocket } from '../upstream/hopTrace';
import { traceTls, type DialTrace } from './dialTrace';

export { ProxyUnreachable } from '../upstream/proxyTunnel';

export interface TransportOptions {
  /** The endpoint's trust, for wss://; undefined for ws://. */
  trust?: PreparedTrust;
  /** The HTTP proxy to tunnel through; undefined for a direct connection. */
  proxy?: UpstreamProxy;
  /** What may be sent to sign in to it (ProxyTunnelOptions.rules). */
  rules?: ProxySignInRules;
  /** Abandons connecting: the half-made socket is destroyed. */
  signal: AbortSignal;
  /** Hears what a person should know about signing in to the proxy (see ProxyTunnelOptions.log). */
  log?: (line: string) => void;
  /**
   * Told how far the proxy has got: 'signing in' once it asked who we are (a
   * 407), 'open' once it opened the tunnel (its 200 to CONNECT), after which
   * what is slow is not the proxy.
   */
  onProxyStage?: (stage: ProxyStage) => void;
  /** Hears each step of the way (dialTrace.ts), for the doctor. */
  trace?: DialTrace;
}

export type ProxyStage = 'signing in' | 'open';

/** The `ws` client options that make it connect this way. */
export function transportOptions(options: TransportOptions): { createConnection: typeof net.createConnection } {
  const connect = options.proxy ? proxiedConnection(options.proxy, options) : directConnection(options.trust, options.signal, options.trace);
  return { createConnection: connect as unknown as typeof net.createConnection };
}

type Done = (err: Error | null, socket?: Duplex) => void;

/**
 * The `createConnection` of the HTTP client for a direct dial: plain TCP for
 * ws://, TLS for wss:// reported through the callback once verified (Node's
 * HTTP client accepts a socket given later through the callback).
 */
function directConnection(trust: PreparedTrust | undefined, signal: AbortSignal, trace: DialTrace | undefined) {
  return (options: tls.ConnectionOptions & net.TcpNetConnectOpts, done: Done): Duplex | undefined => {
    const host = String(options.host ?? 'localhost');
    if (!trust) {
      const plain = net.connect({ ...options, signal });
      traceSocket(plain, 'endpoint', host, Number(options.port), trace);
      return plain;
    }
    const socket = tls.connect({ ...options, ...trust.tls, path: undefined });
    traceSocket(socket, 'endpoint', host, Number(options.port), trace);
    traceTls(socket, trace);
    const onAbort = () => socket.destroy(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    verified(socket, trust, trace).then(
      () => {
        signal.removeEventListener('abort', onAbort);
        done(null, socket);
      },
      (err: Error) => {
        signal.removeEventListener('abort', onAbort);
        done(err);
      },
    );
    return undefined;
  };
}

/**
 * The `createConnection` of the HTTP client for a dial through a proxy: the
 * CONNECT tunnel (proxyTunnel.ts, which signs in as the proxy asks), then for
 * wss:// TLS on top of it, reported once verified, as for a direct dial.
 * CONNECT for ws:// too: see upstreamProxy.ts.
 */
function proxiedConnection(proxy: UpstreamProxy, { trust, rules, signal, log, onProxyStage, trace }: TransportOptions) {
  return (options: tls.ConnectionOptions & net.TcpNetConnectOpts, done: Done): undefined => {
    const host = String(options.host ?? 'localhost').replace(/^\[|\]$/g, '');
    openProxyTunnel(proxy, { host, port: Number(options.port) }, { signal, log, rules, trace, onSignIn: () => onProxyStage?.('signing in') })
      .then(async (tunnel) => {
        onProxyStage?.('open');
        if (!trust) {
          // The HTTP client reads with a 'data' listener, which does not undo the handshake's pause.
          tunnel.resume();
          return tunnel;
        }
        const socket = tls.connect({ ...options, ...trust.tls, socket: tunnel, path: undefined });
        traceTls(socket, trace);
        const onAbort = () => socket.destroy(abortError());
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await verified(socket, trust, trace);
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
        return socket;
      })
      .then(
        (socket) => done(null, socket),
        (err: Error) => done(err),
      );
    return undefined;
  };
}

/** Resolves once `socket`'s handshake is over and its certificate passed; destroys it otherwise. */
function verified(socket: tls.TLSSocket, trust: PreparedTrust, trace?: DialTrace): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onSecure = () => {
      cleanup();
      const err = trust.verify(socket);
      if (!err) {
        trace?.({ kind: 'tls-verified' });
        return resolve();
      }
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(Object.assign(new Error('the connection closed during the TLS handshake'), { code: 'ECONNRESET' }));
    };
    socket.once('secureConnect', onSecure);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}
