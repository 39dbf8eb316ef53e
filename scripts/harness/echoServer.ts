/**
 * Far ends on 127.0.0.1 for the scripts and the tests: one way to listen and
 * to close with the connections still open, and a TCP echo for round trips.
 */
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
