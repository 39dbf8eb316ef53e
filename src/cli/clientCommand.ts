/**
 * `wssh client`: one tunnel on stdin/stdout, for OpenSSH's ProxyCommand.
 * Everything but SSH bytes goes to stderr, which ssh shows to the user.
 */
import { Duplex } from 'node:stream';
import { parseTunnelUri } from '../core/endpoint';
import { dial } from '../core/dialer';
import { Relay } from '../core/relay';
import { CommandValues, UsageError, effectiveProxy, proxyOption, secondsOption, trustOptions } from './options';

export async function runClient(values: CommandValues, [uri]: string[]): Promise<number> {
  let tunnel;
  try {
    tunnel = parseTunnelUri(uri);
  } catch (err) {
    throw new UsageError(`"${uri.replace(/\/\/[^@/]*@/, '//***@')}": ${(err as Error).message}`);
  }
  // Every option is checked before the network is touched.
  const trust = trustOptions(values, tunnel.endpoint);
  const proxy = proxyOption(values);
  effectiveProxy(tunnel.endpoint, proxy); // an unusable HTTPS_PROXY is a usage error too
  const keepaliveMs = secondsOption(values, 'keepalive');
  const ws = await dial(tunnel.endpoint, tunnel.target, { ...trust, proxy });
  const stdio = Duplex.from({ readable: process.stdin, writable: process.stdout });
  const relay = new Relay(stdio, ws, { keepaliveMs });
  relay.on('text', (message) => process.stderr.write(`wssh: the server says: ${message}\n`));
  // The relay ends stdout once the WebSocket has closed; when that is flushed
  // the tunnel is over. Do not linger for ssh to close stdin first (the
  // relay's linger is for TCP peers): ssh's ProxyCommand stdio are pipes, on
  // which ssh sees EOF only when this process closes them, so ssh would wait
  // out the linger before it reports the closed connection.
  stdio.once('finish', () => stdio.destroy());
  const result = await relay.done;
  // stdin may still hold a read handle open; the tunnel is over.
  process.stdin.destroy();
  return result.peerMessage !== undefined ? 1 : 0;
}
