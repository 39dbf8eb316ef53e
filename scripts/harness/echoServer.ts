/**
 * Far ends on 127.0.0.1 for the scripts and the tests: one way to listen and
 * to close with the connections still open, a TCP echo, and the client of an
 * echo that checks every byte came back (the soak and the bench's scale part).
 */
import crypto from 'node:crypto';
import net from 'node:net';

export interface Listening {
  port: number;
  /** Destroys the open connections and stops listening. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 and a port the kernel chooses, keeping track of the
 * connections so that close() can end them (server.close() alone waits for
 * every one to end by itself).
 */
export function listenTracked(server: net.Server, backlog = 511): Promise<Listening> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog }, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Sends back what arrives, and ends after the client's FIN (allowHalfOpen: the bytes before it are echoed first). */
export function startEcho(): Promise<Listening> {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  return listenTracked(server, 8192);
}

/** What came back from an echo. */
export interface EchoResult {
  /** Bytes read back before the last byte, the peer's FIN or the close. */
  bytes: number;
  /** sha256 of what was sent and of what came back, hex. */
  sent: string;
  got: string;
}

/**
 * Sends `size` bytes of a pattern seeded by `seed` (AES-CTR over zeros: a
 * lost, doubled or reordered chunk changes the hash) to a far end that echoes,
 * in `chunk`-byte writes with backpressure, and reads them back. Resolves once
 * all came back, or the peer ended or closed (then `bytes` is short); rejects
 * on a socket error. The socket ends only after everything came back: the
 * relay has no half-close, so a FIN would cut off the echo still in flight.
 */
export async function echoPattern(socket: net.Socket, size: number, seed: string, chunk = 64 * 1024): Promise<EchoResult> {
  socket.on('error', () => {});
  const sent = crypto.createHash('sha256');
  const got = crypto.createHash('sha256');
  let bytes = 0;
  const received = new Promise<void>((resolve, reject) => {
    socket.on('data', (data: Buffer) => {
      bytes += data.length;
      got.update(data);
      if (bytes >= size) resolve();
    });
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
    socket.once('error', reject);
  });
  received.catch(() => {}); // awaited below, after the writes
  socket.resume();
  const key = crypto.createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(chunk);
  for (let left = size; left > 0 && !socket.destroyed;) {
    const n = Math.min(chunk, left);
    left -= n;
    const data = cipher.update(zeros.subarray(0, n));
    sent.update(data);
    if (!socket.write(data)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.once('drain', done);
        socket.once('close', done);
      });
    }
  }
  await received;
  socket.end();
  socket.destroy();
  return { bytes, sent: sent.digest('hex'), got: got.digest('hex') };
}
