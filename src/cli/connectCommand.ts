/** `wssh connect`: the local HTTP CONNECT proxy through one endpoint. */
import type { AddressInfo } from 'node:net';
import { parseEndpoint } from '../shared/endpoint';
import { ConnectProxy, DEFAULT_PROXY_DRAIN_MS, DEFAULT_PROXY_HOST } from '../core/connectProxy';
import { prepareTrust } from '../core/trust';
import { CommandValues, UsageError, secondsOption, trustOptions } from './options';
import { fallbackLine, proxyChoice } from './proxyChoice';
import { clientCertificateOption } from './clientCertificateOption';
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
  trust.clientCertificate = await clientCertificateOption(values, endpoint);
  const upstream = await proxyChoice(values, endpoint, logLine);
  // The system store is read now, so that a machine where it cannot be read
  // says so at start rather than at each tunnel.
  if (endpoint.secure) await prepareTrust(trust, new URL(endpoint.url).hostname.replace(/^\[|\]$/g, ''));
  const proxy = new ConnectProxy({
    endpoint,
    ...trust,
    resolveProxy: upstream.decide,
    onFallback: (failed, reason, next) => logLine(fallbackLine(failed, reason, next)),
    keepaliveMs: secondsOption(values, 'keepalive'),
    // Its log's format (time-stamped), even with --quiet: it is said once, and it is why a sign-in fails.
    log: logLine,
  });
  if (!values.quiet) {
    const t = proxy.tracker;
    t.on('open', (x) => logLine(`tunnel ${x.id} open ${x.client} -> ${x.target}`));
    t.on('close', (x) => logLine(`tunnel ${x.id} closed ${x.target} up=${x.up} down=${x.down} (${x.reason})`));
    t.on('refused', (x) => logLine(`refused ${x.target || '-'} from ${x.client}: ${x.status} ${x.reason}`));
  }
  // Asked now (a PAC script is run for it), so that the lines after the
  // listen line are written together, as a reader of the log expects them.
  const reaching = await upstream.describe(endpoint);
  let address;
  try {
    address = await proxy.listen(listen.port, listen.host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`${formatListen(listen)} is already in use: is another wssh running? (try --listen)`);
    throw err;
  }
  logLine(`HTTP CONNECT proxy on ${formatListen({ host: address.address, port: address.port })} -> ${endpoint.display} (SOCKS5 and SOCKS4a on the same port)`);
  logLine(reaching);
  if (trust.clientCertificate) logLine(`TLS: presenting the client certificate ${trust.clientCertificate.source} to ${endpoint.display} when asked`);
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
