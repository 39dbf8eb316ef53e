/** `wssh connect`: the local HTTP CONNECT proxy through one endpoint. */
import type { AddressInfo } from 'node:net';
import { parseEndpoint } from '../shared/endpoint';
import { ConnectProxy, DEFAULT_PROXY_DRAIN_MS, DEFAULT_PROXY_HOST } from '../core/connectProxy';
import { prepareTrust } from '../core/trust';
import { CommandValues, UsageError, effectiveProxy, maxBufferedOption, proxyOption, secondsOption, trustOptions, tunnelBufferOption } from './options';
import { BufferBudget } from '../core/bufferBudget';
import { formatListen, parseListen } from './listenAddress';
import { logLine } from './logLine';

/** Runs the proxy until SIGTERM or SIGINT; `onListening` is told the address once it listens. */
export async function runConnect(values: CommandValues, [uri]: string[], onListening?: (address: AddressInfo) => void): Promise<number> {
  let endpoint;
  try {
    endpoint = parseEndpoint(uri);
  } catch (err) {
    throw new UsageError(`endpoint "${uri.replace(/\/\/[^@/]*@/, '//***@')}": ${(err as Error).message}`);
  }
  const listen = parseListen(String(values.listen), DEFAULT_PROXY_HOST);
  const trust = trustOptions(values, endpoint);
  const upstream = proxyOption(values);
  const via = effectiveProxy(endpoint, upstream);
  // The system store is read now, so that a machine where it cannot be read
  // says so at start rather than at each tunnel.
  if (endpoint.secure) await prepareTrust(trust, new URL(endpoint.url).hostname.replace(/^\[|\]$/g, ''));
  const proxy = new ConnectProxy({
    endpoint,
    ...trust,
    proxy: upstream,
    keepaliveMs: secondsOption(values, 'keepalive'),
    budget: new BufferBudget(maxBufferedOption(values)),
    highWaterMark: tunnelBufferOption(values),
    // Its log's format (time-stamped), even with --quiet: it is said once, and it is why a sign-in fails.
    log: logLine,
  });
  // Also with --quiet: the process itself is in trouble (out of descriptors).
  proxy.on('warning', (line) => logLine(line));
  if (!values.quiet) {
    const t = proxy.tracker;
    t.on('open', (x) => logLine(`tunnel ${x.id} open ${x.client} -> ${x.target}`));
    t.on('close', (x) => logLine(`tunnel ${x.id} closed ${x.target} up=${x.up} down=${x.down} (${x.reason})`));
    t.on('refused', (x) => logLine(`refused ${x.target || '-'} from ${x.client}: ${x.status} ${x.reason}`));
  }
  let address;
  try {
    address = await proxy.listen(listen.port, listen.host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`${formatListen(listen)} is already in use: is another wssh running? (try --listen)`);
    throw err;
  }
  logLine(`HTTP CONNECT proxy on ${formatListen({ host: address.address, port: address.port })} -> ${endpoint.display} (SOCKS5 and SOCKS4a on the same port)`);
  logLine(via ? `reaching ${endpoint.display} through the HTTP proxy at ${via.display} (from ${via.source === 'option' ? '--proxy' : via.source})` : `reaching ${endpoint.display} directly`);
  if (trust.pinOnly) {
    logLine(`TLS: trusting only the pinned certificate for ${endpoint.display} (--pin-only: its issuer and name are not checked, its dates are)`);
  }
  onListening?.(address);

  await new Promise<void>((resolve) => {
    const stop = () => proxy.close(DEFAULT_PROXY_DRAIN_MS).then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
