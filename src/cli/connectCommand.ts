/** `wssh connect`: the local HTTP CONNECT proxy through one endpoint. */
import { parseEndpoint } from '../core/endpoint';
import { ConnectProxy, DEFAULT_PROXY_HOST } from '../core/connectProxy';
import { CommandValues, UsageError, caOption, logLine, secondsOption } from './options';
import { formatListen, parseListen } from './listenAddress';

export async function runConnect(values: CommandValues, [uri]: string[]): Promise<number> {
  let endpoint;
  try {
    endpoint = parseEndpoint(uri);
  } catch (err) {
    throw new UsageError(`endpoint "${uri.replace(/\/\/[^@/]*@/, '//***@')}": ${(err as Error).message}`);
  }
  const listen = parseListen(String(values.listen), DEFAULT_PROXY_HOST);
  const proxy = new ConnectProxy({
    endpoint,
    ca: caOption(values),
    keepaliveMs: secondsOption(values, 'keepalive'),
  });
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
  logLine(`HTTP CONNECT proxy on ${formatListen({ host: address.address, port: address.port })} -> ${endpoint.display}`);

  await new Promise<void>((resolve) => {
    const stop = () => proxy.close(2000).then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
