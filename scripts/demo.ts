/**
 * `npm run demo`: the whole chain on one machine, on the defaults.
 *
 *   wssh server  on its default address, allowing only this machine (server/hosts.demo.yml)
 *   wssh connect on its default address, through ws://localhost:<server port>/ssh
 *
 * Both run in this process through the same code and the same option parser
 * as the CLI commands, so their defaults are the CLI's. Once both listen, the
 * demo opens a tunnel to localhost:22 through its own proxy and prints the SSH
 * banner that comes back, or how to start an SSH server.
 *
 * A failure to start (a port in use) is one line, as `wssh server` says it.
 */
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { runServer } from '../src/cli/serverCommand';
import { runConnect } from '../src/cli/connectCommand';
import { parseCommand } from '../src/cli/commands';
import { formatListen } from '../src/cli/listenAddress';
import { DEFAULT_PORT, type Target } from '../src/shared/target';
import { DEFAULT_PROXY_DRAIN_MS } from '../src/core/localProxy/connectProxy';
import { describeBanner, readBannerThrough } from './bannerCheck';

export interface DemoOptions {
  /** `--listen` of the server. @default the CLI's */
  serverListen?: string;
  /** `--listen` of the proxy. @default the CLI's */
  proxyListen?: string;
  /** The policy file. @default server/hosts.demo.yml */
  hosts?: string;
  /** Where the check's tunnel goes. @default localhost:22 */
  check?: Target;
}

const DEMO_HOSTS = path.join(__dirname, '..', '..', 'server', 'hosts.demo.yml');

/** Runs the demo until SIGINT/SIGTERM. */
export async function demo(options: DemoOptions = {}): Promise<void> {
  const listen = (address: string | undefined) => (address === undefined ? [] : ['--listen', address]);
  // Ctrl-C stops the demo's server as quickly as `wssh connect` stops, not
  // after the 30 s a deployed server gives open tunnels.
  const drain = String(DEFAULT_PROXY_DRAIN_MS / 1000);
  const server = parseCommand('server', ['--hosts', options.hosts ?? DEMO_HOSTS, '--drain', drain, ...listen(options.serverListen)]);
  const { done: serverDone, address: serverAt } = started((ready) => runServer(server.values, [], ready));
  const serverPort = (await serverAt).port;

  const endpoint = `ws://localhost:${serverPort}/ssh`;
  const proxy = parseCommand('connect', [endpoint, ...listen(options.proxyListen)]);
  const { done: proxyDone, address: proxyAt } = started((ready) => runConnect(proxy.values, proxy.positionals, ready));
  const proxyAddress = await proxyAt;
  const proxyPort = proxyAddress.port;
  const proxyHost = proxyAddress.address;

  process.stderr.write(`
WSSH demo is running (Ctrl-C stops it). Try, with an sshd on this machine:

  ssh -o ProxyCommand='nc -X connect -x ${formatListen({ host: proxyHost, port: proxyPort })} %h %p' localhost
  ssh -o ProxyCommand='npx wssh client ${endpoint}/%h' localhost

or PuTTY / plink with proxy type HTTP, host ${proxyHost}, port ${proxyPort}, and
"Consider proxying local host connections" ticked; host name localhost.

`);
  const target = options.check ?? { host: 'localhost', port: DEFAULT_PORT };
  const result = await readBannerThrough({ host: proxyHost, port: proxyPort }, target);
  process.stderr.write(describeBanner(result, target));
  await Promise.all([serverDone, proxyDone]);
}

/**
 * A command started with a `ready` callback: `address` resolves once it
 * listens and rejects if the command fails first (a port in use); `done`
 * when it ends. Both are handled from the start, so a failure before anyone
 * awaits `done` is not an unhandled rejection (which printed a stack trace).
 */
function started(run: (ready: (address: AddressInfo) => void) => Promise<number>): { done: Promise<number>; address: Promise<AddressInfo> } {
  let ready!: (address: AddressInfo) => void;
  const address = new Promise<AddressInfo>((resolve) => (ready = resolve));
  const done = run(ready);
  return { done, address: Promise.race([address, done.then(() => Promise.reject(new Error('stopped before it listened')))]) };
}

/** The demo as `npm run demo` runs it: a failure is one line on stderr and exit code 1. */
export function runDemo(options: DemoOptions = {}): void {
  demo(options).then(
    () => process.exit(0),
    (err: Error) => {
      // The same line `wssh` prints for the same error.
      process.stderr.write(`wssh: ${err.message}\n`);
      process.exit(1);
    },
  );
}

if (require.main === module) runDemo();
