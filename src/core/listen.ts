/** Starting an HTTP server as a promise: the address it got, or the error (EADDRINUSE). */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

export function listenOn(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}
