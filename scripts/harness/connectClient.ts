/**
 * An HTTP CONNECT client the way PuTTY speaks it, for the scripts and the
 * tests: `CONNECT host:port HTTP/1.1` with a Host header, then the answer.
 */
import net from 'node:net';

export interface ConnectReply {
  /** The status code of the proxy's answer. */
  status: number;
  /** The status line, e.g. `HTTP/1.1 200 Connection established`. */
  statusLine: string;
  /** The response head (status line and headers) as text. */
  head: string;
  /**
   * The socket, still open after a 200 and *paused* (nothing is read until the
   * caller resumes it); bytes that came after the head are unshifted into it.
   */
  socket: net.Socket;
  /** For a refusal: the body, read until the proxy closed the connection. */
  body: string;
}

export interface ConnectOptions {
  /** Reject when no answer came within this long. @default 15000 */
  timeoutMs?: number;
  /** Keep our side open after the proxy's FIN. @default true */
  allowHalfOpen?: boolean;
  /** The proxy's host. @default 127.0.0.1 */
  host?: string;
  /** Extra request headers, e.g. Proxy-Authorization for a proxy that asks for its credential. */
  headers?: Record<string, string>;
}

/**
 * Opens a TCP connection to the CONNECT proxy on `proxyPort`, sends
 * `CONNECT target HTTP/1.1` with a Host header, and resolves with the answer.
 * After a 200 the socket is the tunnel; otherwise it has been read to its end.
 */
export function connectThroughProxy(proxyPort: number, target: string, opts: ConnectOptions = {}): Promise<ConnectReply> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: opts.host ?? '127.0.0.1', port: proxyPort, allowHalfOpen: opts.allowHalfOpen ?? true, noDelay: true });
    let data: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to CONNECT ${target} within ${timeoutMs} ms (got ${JSON.stringify(data.toString('latin1'))})`));
    }, timeoutMs);
    const onError = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', onError);
    const onData = (chunk: Buffer) => {
      data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        if (data.length > 16 * 1024) onError(new Error('the proxy sent an endless response header'));
        return;
      }
      socket.off('data', onData);
      socket.pause();
      const head = data.subarray(0, end).toString('latin1');
      const rest = data.subarray(end + 4);
      const statusLine = head.split('\r\n', 1)[0];
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
      if (status === 200) {
        clearTimeout(timer);
        socket.off('error', onError);
        if (rest.length > 0) socket.unshift(rest);
        resolve({ status, statusLine, head, socket, body: '' });
        return;
      }
      // A refusal: read the body until the proxy's FIN ('end'; with
      // allowHalfOpen there is no 'close' until this side ends too).
      const body: Buffer[] = [rest];
      socket.on('data', (c: Buffer) => body.push(c));
      socket.once('end', () => {
        clearTimeout(timer);
        socket.end();
        resolve({ status, statusLine, head, socket, body: Buffer.concat(body).toString('utf8') });
      });
      socket.resume();
    };
    socket.on('data', onData);
    const extra = Object.entries(opts.headers ?? {})
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.once('connect', () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${extra}\r\n`));
  });
}

/** A refused CONNECT, with the proxy's status and reason. */
export class ConnectRefused extends Error {
  constructor(readonly reply: ConnectReply) {
    super(`the proxy refused the tunnel: ${reply.statusLine}${reply.body ? ` ${reply.body.trim()}` : ''}`);
  }
}

/** CONNECT that insists on a 200: resolves with the tunnel's socket, paused. */
export async function openTunnel(proxyPort: number, target: string, opts: ConnectOptions = {}): Promise<net.Socket> {
  const reply = await connectThroughProxy(proxyPort, target, opts);
  if (reply.status !== 200) {
    reply.socket.destroy();
    throw new ConnectRefused(reply);
  }
  return reply.socket;
}
