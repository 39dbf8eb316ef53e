/** Starting an HTTP server as a promise: the address it got, or the error (EADDRINUSE). */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Connections the kernel holds for us before we accept them. Node's 511 drops
 * the SYNs of a burst of thousands, and a dropped SYN is retried after 1 s,
 * then 3 s: seconds added to opening a tunnel. The kernel caps it at
 * net.core.somaxconn (4096 on current Linux).
 */
export const LISTEN_BACKLOG = 4096;

export function listenOn(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}
