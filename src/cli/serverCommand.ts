/** `wssh server`: the WSSH server with its hosts.yml, until SIGTERM. */
import { WsshServer } from '../../server/wsshServer';
import { PolicyWatcher } from '../../server/policyWatcher';
import { DEFAULT_SERVER_HOST } from '../../server/wsshServer';
import { CommandValues, UsageError, logLine, secondsOption } from './options';
import { formatListen, parseListen } from './listenAddress';

const TRUST = ['loopback', 'always', 'never'] as const;

export async function runServer(values: CommandValues): Promise<number> {
  const listen = parseListen(String(values.listen), DEFAULT_SERVER_HOST);
  const trustProxy = String(values['trust-proxy']) as (typeof TRUST)[number];
  if (!TRUST.includes(trustProxy)) throw new UsageError(`--trust-proxy "${trustProxy}": expected ${TRUST.join(', ')}`);
  const keepaliveMs = secondsOption(values, 'keepalive');
  const connectTimeoutMs = secondsOption(values, 'connect-timeout');
  const drainMs = secondsOption(values, 'drain');

  // A broken hosts.yml at start is fatal: better no server than a guessed policy.
  const watcher = new PolicyWatcher(String(values.hosts));
  logLine(`hosts: ${watcher.path}: ${watcher.policy.ruleCount} rules`);
  watcher.on('reload', (policy) => logLine(`hosts: reloaded ${watcher.path}: ${policy.ruleCount} rules`));
  watcher.on('error', (err) => logLine(`hosts: ${err.message}; keeping the last good policy`));

  const server = new WsshServer({
    policy: () => watcher.policy,
    keepaliveMs,
    connectTimeoutMs,
    trustProxy,
    log: logLine,
  });
  const address = await server.listen(listen.port, listen.host);
  logLine(`wssh server listening on ws://${formatListen({ host: address.address, port: address.port })}/`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logLine(`${signal}: not accepting new tunnels; ${server.tracker.size} open, waiting up to ${drainMs / 1000}s`);
      watcher.close();
      server.close(drainMs).then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  logLine('wssh server stopped');
  return 0;
}
