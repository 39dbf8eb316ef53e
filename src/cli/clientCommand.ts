/**
 * `wssh client`: one tunnel on stdin/stdout, for OpenSSH's ProxyCommand.
 * Everything but SSH bytes goes to stderr, which ssh shows to the user.
 */
import { Duplex } from 'node:stream';
import { parseTunnelUri } from '../core/endpoint';
import { dial } from '../core/dialer';
import { Relay } from '../core/relay';
import { CommandValues, UsageError, caOption, secondsOption } from './options';

export async function runClient(values: CommandValues, [uri]: string[]): Promise<number> {
  let tunnel;
  try {
    tunnel = parseTunnelUri(uri);
  } catch (err) {
    throw new UsageError(`"${uri.replace(/\/\/[^@/]*@/, '//***@')}": ${(err as Error).message}`);
  }
  const ws = await dial(tunnel.endpoint, tunnel.target, { ca: caOption(values) });
  const stdio = Duplex.from({ readable: process.stdin, writable: process.stdout });
  const relay = new Relay(stdio, ws, { keepaliveMs: secondsOption(values, 'keepalive') });
  relay.on('text', (message) => process.stderr.write(`wssh: the server says: ${message}\n`));
  const result = await relay.done;
  // stdin may still hold a read handle open; the tunnel is over.
  process.stdin.destroy();
  return result.peerMessage !== undefined ? 1 : 0;
}
