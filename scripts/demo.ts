/**
 * `npm run demo`: the whole chain on one machine, on the defaults.
 *
 *   wssh server  on 127.0.0.1:4567, allowing only this machine (server/hosts.demo.yml)
 *   wssh connect on 127.0.0.1:3122, through ws://localhost:4567/ssh
 *
 * Both run in this process through the same code as the CLI commands.
 */
import path from 'node:path';
import { runServer } from '../src/cli/serverCommand';
import { runConnect } from '../src/cli/connectCommand';

const hosts = path.join(__dirname, '..', '..', 'server', 'hosts.demo.yml');

async function main(): Promise<void> {
  const server = runServer(
    { listen: '127.0.0.1:4567', hosts, keepalive: '30', 'connect-timeout': '10', drain: '2', 'trust-proxy': 'loopback' },
  );
  // Give the server its port first, so the proxy's first tunnel finds it.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const proxy = runConnect({ listen: '127.0.0.1:3122', keepalive: '30', quiet: false }, ['ws://localhost:4567/ssh']);
  setTimeout(() => {
    process.stderr.write(`
WSSH demo is running (Ctrl-C stops it). Try, with an sshd on this machine:

  ssh -o ProxyCommand='nc -X connect -x 127.0.0.1:3122 %h %p' localhost
  ssh -o ProxyCommand='npx wssh client ws://localhost:4567/ssh/%h' localhost

or PuTTY / plink with proxy type HTTP, host 127.0.0.1, port 3122, and
"Consider proxying local host connections" ticked; host name localhost.

`);
  }, 400).unref();
  await Promise.all([server, proxy]);
}

main().catch((err: Error) => {
  process.stderr.write(`wssh demo: ${err.message}\n`);
  process.exit(1);
});
