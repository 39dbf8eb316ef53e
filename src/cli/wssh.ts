#!/usr/bin/env node
/**
 * The `wssh` command: `server`, `connect` and `client`. Argument parsing is
 * node's util.parseArgs; each command's work lives in its own module so that
 * the demo and the tests start the same code the command line does.
 */
import { parseArgs, ParseArgsConfig } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { runServer } from './serverCommand';
import { DEFAULT_LIMITS } from '../../server/limits';
import { DEFAULT_MAX_BUFFERED } from '../core/bufferBudget';
import { DEFAULT_HIGH_WATER_MARK } from '../core/relay';
import { runConnect } from './connectCommand';
import { runClient } from './clientCommand';
import { CommandValues, ENDPOINT_OPTIONS, ENDPOINT_OPTIONS_USAGE, UsageError } from './options';

const USAGE = `Usage: wssh <command> [options]

SSH over WebSocket.

Commands:
  server    run the WSSH server: relays each WebSocket to an SSH server hosts.yml allows
  connect   run a local HTTP CONNECT proxy (for PuTTY, plink, WinSCP) through an endpoint
  client    relay stdin/stdout through an endpoint (for OpenSSH's ProxyCommand)

Run 'wssh <command> --help' for a command's options.
  --help      show this help
  --version   show the version
`;

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

const COMMANDS = {
  server: {
    usage: `Usage: wssh server [--listen 127.0.0.1:4567] [--hosts ./hosts.yml] [options]
       wssh server --hash-secret NAME >> users.yml

Accepts a WebSocket per tunnel at ws://HOST:PORT/<any path>/<target> and relays
it to the SSH server that hosts.yml allows. Run it behind nginx for TLS.
GET /healthz answers 200 (for load balancers), GET /metrics the counters.

Options:
  --listen ADDR            where to listen, PORT or HOST:PORT (default 127.0.0.1:4567)
  --hosts FILE             the hosts.yml policy; reloaded when it changes (default ./hosts.yml)
  --keepalive SECONDS      WebSocket ping interval, 0 for none (default 30)
  --connect-timeout SEC    how long to wait for a target's TCP connect (default 10)
  --drain SECONDS          on SIGTERM, how long open tunnels may finish (default 30)
  --trust-proxy WHEN       take the client address from X-Forwarded-For:
                           loopback (from nginx on this host; default), always, never,
                           or the proxies' addresses/CIDRs, comma-separated

Authentication (off unless --users is given):
  --users FILE             require HTTP Basic auth from the users in FILE (401 otherwise);
                           reloaded when it changes
  --hash-secret NAME       read a secret from the terminal or stdin, print the line
                           "NAME: scrypt$..." for the users file, and exit

Limits:
  --max-tunnels N          tunnels at once, 0 for no limit (default ${DEFAULT_LIMITS.maxTunnels}); over it: 503
  --max-tunnels-per-client N
                           tunnels at once from one client address, 0 for no limit
                           (default ${DEFAULT_LIMITS.maxTunnelsPerClient}); over it: 429
  --handshake-timeout SEC  time for the upgrade request's headers (default ${DEFAULT_LIMITS.handshakeTimeoutMs / 1000}); then 408
  --idle-timeout SECONDS   close a tunnel when no byte moved either way for this long,
                           0 for never (default ${DEFAULT_LIMITS.idleTimeoutMs / 1000})
  --max-path BYTES         longest request path (default ${DEFAULT_LIMITS.maxPathLength}); longer: 414
  --stats-interval SEC     log the counters this often, 0 for never (default 0)
  --max-buffered MIB       bytes buffered across all tunnels (send and write buffers) before
                           reading pauses in the tunnels that hold the most (default ${DEFAULT_MAX_BUFFERED / 1024 / 1024})
  --tunnel-buffer KIB      bytes one tunnel queues toward the WebSocket before its reading
                           pauses (default ${DEFAULT_HIGH_WATER_MARK / 1024})

SIGHUP reloads hosts.yml and the users file at once.
`,
    options: {
      listen: { type: 'string', default: '127.0.0.1:4567' },
      hosts: { type: 'string', default: './hosts.yml' },
      keepalive: { type: 'string', default: '30' },
      'connect-timeout': { type: 'string', default: '10' },
      drain: { type: 'string', default: '30' },
      'trust-proxy': { type: 'string', default: 'loopback' },
      users: { type: 'string' },
      'hash-secret': { type: 'string' },
      // Defaults for these come from DEFAULT_LIMITS in runServer (one place).
      'max-tunnels': { type: 'string' },
      'max-tunnels-per-client': { type: 'string' },
      'handshake-timeout': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'max-path': { type: 'string' },
      'stats-interval': { type: 'string' },
      'max-buffered': { type: 'string' },
      'tunnel-buffer': { type: 'string' },
    },
    positionals: 0,
    run: runServer,
  },
  connect: {
    usage: `Usage: wssh connect <endpoint> [--listen 127.0.0.1:3122] [options]

Serves an HTTP CONNECT proxy; each CONNECT host:port becomes a tunnel through
<endpoint> (ws://… or wss://…, e.g. wss://gw.example.com/ssh). In PuTTY:
Connection > Proxy: type HTTP, host 127.0.0.1, port 3122.

The same port answers SOCKS5 and SOCKS4/4a (PuTTY's proxy types SOCKS 5 and 4).

Options:
  --listen ADDR            where to listen, PORT or HOST:PORT (default 127.0.0.1:3122)
  --keepalive SECONDS      WebSocket ping interval, 0 for none (default 30)
  --quiet                  do not log tunnels opening and closing
  --max-buffered MIB       bytes buffered across all tunnels (send and write buffers) before
                           reading pauses in the tunnels that hold the most (default ${DEFAULT_MAX_BUFFERED / 1024 / 1024})
  --tunnel-buffer KIB      bytes one tunnel queues toward the WebSocket before its reading
                           pauses (default ${DEFAULT_HIGH_WATER_MARK / 1024})
${ENDPOINT_OPTIONS_USAGE}`,
    options: {
      listen: { type: 'string', default: '127.0.0.1:3122' },
      keepalive: { type: 'string', default: '30' },
      quiet: { type: 'boolean', default: false },
      'max-buffered': { type: 'string' },
      'tunnel-buffer': { type: 'string' },
      ...ENDPOINT_OPTIONS,
    },
    positionals: 1,
    run: runConnect,
  },
  client: {
    usage: `Usage: wssh client <endpoint>/<host>[:port] [options]

Relays stdin and stdout through one tunnel, for OpenSSH:
  ssh -o ProxyCommand='wssh client wss://gw.example.com/ssh/%h' user@db1.lan

Options:
  --keepalive SECONDS      WebSocket ping interval, 0 for none (default 30)
${ENDPOINT_OPTIONS_USAGE}`,
    options: {
      keepalive: { type: 'string', default: '30' },
      ...ENDPOINT_OPTIONS,
    },
    positionals: 1,
    run: runClient,
  },
} as const;

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  return `wssh ${pkg.version}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(version() + '\n');
    return 0;
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    throw new UsageError(`unknown command "${name}" (expected server, connect or client; see wssh --help)`);
  }
  const command = COMMANDS[name as keyof typeof COMMANDS];
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...COMMON, ...command.options } as ParseArgsConfig['options'],
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]} (see wssh ${name} --help)`);
  }
  const values = parsed.values as CommandValues;
  if (values.help) {
    process.stdout.write(command.usage);
    return 0;
  }
  if (values.version) {
    process.stdout.write(version() + '\n');
    return 0;
  }
  if (parsed.positionals.length !== command.positionals) {
    const expected = command.positionals === 0 ? 'no arguments' : 'one argument';
    throw new UsageError(`wssh ${name} takes ${expected}, got ${parsed.positionals.length} (see wssh ${name} --help)`);
  }
  return command.run(values, parsed.positionals);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exitCode = code;
    },
    (err: Error) => {
      process.stderr.write(`wssh: ${err.message}\n`);
      process.exitCode = err instanceof UsageError ? 2 : 1;
    },
  );
}
