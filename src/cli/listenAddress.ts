/** `--listen` values: `PORT`, `HOST:PORT` or `[IPv6]:PORT`. */
import net from 'node:net';
import type { ListenAddress } from '../shared/listenAddress';
import { UsageError } from './options';

export function parseListen(text: string, defaultHost: string): ListenAddress {
  const match = /^(?:(\[[^\]]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new UsageError(`--listen "${text}": expected PORT, HOST:PORT or [IPv6]:PORT`);
  }
  let host = match[1] ?? defaultHost;
  if (host.startsWith('[')) host = host.slice(1, -1);
  if (host !== 'localhost' && net.isIP(host) === 0) {
    throw new UsageError(`--listen "${text}": "${host}" is not an IP address (or localhost)`);
  }
  return { host, port };
}

export function formatListen({ host, port }: ListenAddress): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
