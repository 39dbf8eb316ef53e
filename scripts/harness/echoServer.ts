/** A TCP echo server on 127.0.0.1 for round trips through a tunnel, for the scripts and the tests. */
import net from 'node:net';

export interface EchoServer {
  port: number;
  /** Destroys the open connections and stops listening. */
  close(): Promise<void>;
}

/** Sends back what arrives, and ends after the client's FIN (allowHalfOpen: the bytes before it are echoed first). */
export function startEcho(): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 8192 }, () => {
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
