/**
 * A minimal TCP relay, the baseline of `npm run bench`:
 *
 *   node dist/scripts/plainRelay.js LISTENPORT TARGETPORT
 *
 * Listens on 127.0.0.1:LISTENPORT (0 picks a free port) and relays every
 * connection to 127.0.0.1:TARGETPORT with plain stream piping: backpressure
 * from pipe(), half-close passed on (a FIN on one side ends the other after
 * its buffered bytes), Nagle off like the tunnel's sockets. It prints
 * "plain relay listening on 127.0.0.1:PORT -> 127.0.0.1:TARGETPORT" on stderr
 * once it listens, and stops on SIGTERM or SIGINT.
 *
 * It stands for what the tunnel's hops cost without WebSocket framing: two of
 * these chained have the same number of processes as `wssh connect` +
 * `wssh server`.
 */
import net from 'node:net';

function usage(message: string): never {
  process.stderr.write(`plainRelay: ${message}\nusage: node dist/scripts/plainRelay.js LISTENPORT TARGETPORT\n`);
  process.exit(2);
}

function portArg(text: string | undefined, name: string): number {
  if (text === undefined) usage(`missing ${name}`);
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) usage(`${name} "${text}" is not a port number`);
  return port;
}

const listenPort = portArg(process.argv[2], 'LISTENPORT');
const targetPort = portArg(process.argv[3], 'TARGETPORT');
const HOST = '127.0.0.1';

const sockets = new Set<net.Socket>();

const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
  const target = net.connect({ host: HOST, port: targetPort, allowHalfOpen: true, noDelay: true });
  for (const s of [client, target]) {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  }
  const destroyBoth = () => {
    client.destroy();
    target.destroy();
  };
  client.on('error', destroyBoth);
  target.on('error', destroyBoth);
  // A socket that closed (both directions done, or destroyed) takes its peer
  // along: FIN after its buffered bytes, and gone for good a little later.
  const follow = (peer: net.Socket) => () => {
    peer.end();
    setTimeout(() => peer.destroy(), 5000).unref();
  };
  client.once('close', follow(target));
  target.once('close', follow(client));
  client.pipe(target);
  target.pipe(client);
});

server.on('error', (err) => {
  process.stderr.write(`plainRelay: ${err.message}\n`);
  process.exit(1);
});

// The same accept backlog as wssh's servers (src/core/listen.ts), for a burst of opens.
server.listen({ port: listenPort, host: HOST, backlog: 4096 }, () => {
  const { port } = server.address() as net.AddressInfo;
  process.stderr.write(`plain relay listening on ${HOST}:${port} -> ${HOST}:${targetPort}\n`);
});

const stop = () => {
  server.close();
  for (const s of sockets) s.destroy();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
