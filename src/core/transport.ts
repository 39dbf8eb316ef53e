/**
 * How a dial reaches the endpoint's host, below the WebSocket: a TCP
 * connection, direct or through an HTTP proxy's CONNECT tunnel
 * (https-proxy-agent), and for wss:// TLS on top.
 *
 * Either way the socket is handed to the HTTP client only once the TLS
 * handshake is over and the certificate passed `PreparedTrust.verify`, so the
 * upgrade request, with its Basic credentials, is never written to a server
 * that has not proven who it is.
 */
import net from 'node:net';
import tls from 'node:tls';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { PreparedTrust } from './trust';
import { ProxyRefusal, type UpstreamProxy } from './upstreamProxy';

/** A network error on the way to the HTTP proxy itself (not to the endpoint). */
export class ProxyUnreachable extends Error {
  override name = 'ProxyUnreachable';
  readonly code?: string;
  constructor(readonly error: Error & { code?: string }) {
    super(error.message);
    this.code = error.code;
  }
}

export interface TransportOptions {
  /** The endpoint's trust, for wss://; undefined for ws://. */
  trust?: PreparedTrust;
  /** The HTTP proxy to tunnel through; undefined for a direct connection. */
  proxy?: UpstreamProxy;
  /** Abandons connecting: the half-made socket is destroyed. */
  signal: AbortSignal;
}

/** The `ws` client options that make it connect this way. */
export function transportOptions(options: TransportOptions): { agent?: http.Agent; createConnection?: typeof net.createConnection } {
  if (options.proxy) return { agent: new EndpointProxyAgent(options.proxy, options.trust, options.signal) };
  return { createConnection: directConnection(options.trust, options.signal) as unknown as typeof net.createConnection };
}

type Done = (err: Error | null, socket?: Duplex) => void;

/**
 * The `createConnection` of the HTTP client for a direct dial: plain TCP for
 * ws://, TLS for wss:// reported through the callback once verified (Node's
 * HTTP client accepts a socket given later through the callback).
 */
function directConnection(trust: PreparedTrust | undefined, signal: AbortSignal) {
  return (options: tls.ConnectionOptions & net.TcpNetConnectOpts, done: Done): Duplex | undefined => {
    if (!trust) return net.connect({ ...options, signal });
    const socket = tls.connect({ ...options, ...trust.tls, path: undefined });
    const onAbort = () => socket.destroy(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    verified(socket, trust).then(
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
 * https-proxy-agent with three things added: a refusal by the proxy (407,
 * 403, 502…) becomes a ProxyRefusal error instead of a response that would
 * read as the WSSH server's; a failure to reach the proxy becomes
 * ProxyUnreachable; and a TLS socket is returned only once verified.
 * CONNECT for ws:// too: see upstreamProxy.ts.
 */
class EndpointProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: UpstreamProxy,
    private readonly trust: PreparedTrust | undefined,
    signal: AbortSignal,
  ) {
    // Options for the connection to the proxy: the signal destroys it when the dial is abandoned.
    super(proxy.url.href, { signal } as ConstructorParameters<typeof HttpsProxyAgent>[1]);
  }

  override async connect(req: http.ClientRequest, opts: Parameters<HttpsProxyAgent<string>['connect']>[1]): Promise<net.Socket> {
    let answer: { statusCode: number; statusText: string } | undefined;
    req.once('proxyConnect', (connect: { statusCode: number; statusText: string }) => (answer = connect));
    let socket: net.Socket;
    try {
      socket = await super.connect(req, opts);
    } catch (err) {
      throw new ProxyUnreachable(err as Error);
    }
    if (!answer || answer.statusCode !== 200) {
      socket.destroy();
      throw new ProxyRefusal(answer?.statusCode ?? 0, answer?.statusText ?? 'no answer');
    }
    if (opts.secureEndpoint) {
      if (!this.trust) throw new Error('wss:// without a trust setting');
      await verified(socket as tls.TLSSocket, this.trust);
    }
    if (req.destroyed) {
      socket.destroy();
      throw abortError();
    }
    return socket;
  }
}

/** Resolves once `socket`'s handshake is over and its certificate passed; destroys it otherwise. */
function verified(socket: tls.TLSSocket, trust: PreparedTrust): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onSecure = () => {
      cleanup();
      const err = trust.verify(socket);
      if (!err) return resolve();
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

function abortError(): Error {
  return Object.assign(new Error('the dial was abandoned'), { name: 'AbortError', code: 'ABORT_ERR' });
}
