/**
 * A refusal on a raw socket that has not become a tunnel: an HTTP status line
 * and a one-line reason as the body, then the socket is closed. Used by the
 * local proxy (answering PuTTY) and by the server (answering an upgrade).
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { escapeText } from '../tunnel/peerText';

export function writeRefusal(socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // One line, escaped: the client may print it on a terminal (curl, a ProxyCommand's nc), and a reason may quote a peer.
  const body = escapeText(reason.replace(/[\r\n]+/g, ' ')) + '\n';
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  // The socket may be half-open (allowHalfOpen): close it once the reply is out
  // instead of waiting for the client's FIN.
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      extra +
      'Connection: close\r\n\r\n' +
      body,
  );
}
