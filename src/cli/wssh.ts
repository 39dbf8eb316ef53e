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
import { runConnect } from './connectCommand';
import { runClient } from './clientCommand';
import { runProfileCreate, runProfileLink, runProfileShow } from './profileCommand';
import { CommandValues, ENDPOINT_OPTIONS, ENDPOINT_OPTIONS_USAGE, UsageError } from './options';

const USAGE = `Usage: wssh <command> [options]

SSH over WebSocket.

Commands:
  server    run the WSSH server: relays each WebSocket to an SSH server hosts.yml allows
  connect   run a local HTTP CONNECT proxy (for PuTTY, plink, WinSCP) through an endpoint
  client    relay stdin/stdout through an endpoint (for OpenSSH's ProxyCommand)
  profile   write (create), read (show) or turn into a link (link) an endpoint profile, NAME.wssh

Run 'wssh <command> --help' for a command's options.
  --help      show this help
  --version   show the version
`;

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

const PROFILE_OPTION_USAGE = `  --profile FILE           the endpoint, its TLS trust and proxy mode from a profile
                           (wssh profile create) instead of the flags; a profile's
                           user sends the secret in the WSSH_SECRET variable
`;

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
    },
    positionals: 0,
    run: runServer,
  },
  connect: {
    usage: `Usage: wssh connect <endpoint> [--listen 127.0.0.1:3122] [options]
       wssh connect --profile FILE [--listen 127.0.0.1:3122] [options]

Serves an HTTP CONNECT proxy; each CONNECT host:port becomes a tunnel through
<endpoint> (ws://… or wss://…, e.g. wss://gw.example.com/ssh). In PuTTY:
Connection > Proxy: type HTTP, host 127.0.0.1, port 3122.

The same port answers SOCKS5 and SOCKS4/4a (PuTTY's proxy types SOCKS 5 and 4).

Options:
  --listen ADDR            where to listen, PORT or HOST:PORT (default 127.0.0.1:3122)
  --keepalive SECONDS      WebSocket ping interval, 0 for none (default 30)
  --quiet                  do not log tunnels opening and closing
${PROFILE_OPTION_USAGE}${ENDPOINT_OPTIONS_USAGE}`,
    options: {
      listen: { type: 'string', default: '127.0.0.1:3122' },
      keepalive: { type: 'string', default: '30' },
      quiet: { type: 'boolean', default: false },
      profile: { type: 'string' },
      ...ENDPOINT_OPTIONS,
    },
    // The endpoint, unless a profile gives it.
    positionals: (values: CommandValues) => (values.profile === undefined ? 1 : 0),
    run: runConnect,
  },
  client: {
    usage: `Usage: wssh client <endpoint>/<host>[:port] [options]
       wssh client --profile FILE <host>[:port] [options]

Relays stdin and stdout through one tunnel, for OpenSSH:
  ssh -o ProxyCommand='wssh client wss://gw.example.com/ssh/%h' user@db1.lan

Options:
  --keepalive SECONDS      WebSocket ping interval, 0 for none (default 30)
${PROFILE_OPTION_USAGE}${ENDPOINT_OPTIONS_USAGE}`,
    options: {
      keepalive: { type: 'string', default: '30' },
      profile: { type: 'string' },
      ...ENDPOINT_OPTIONS,
    },
    positionals: 1,
    run: runClient,
  },
  'profile create': {
    usage: `Usage: wssh profile create <endpoint> [--name NAME] [--ca FILE]... [--pin FP]...
                           [--pin-from-server] [--pin-only] [--servername NAME]
                           [--user NAME] [--proxy URL | --no-proxy] [-o FILE]

Writes an endpoint profile (NAME.wssh) for users: the endpoint's name and URI,
its TLS trust (CA certificates inline, pins, pin-only, server name), the proxy
mode and optionally a user name. It never holds a secret: an endpoint with
user:secret@ is refused. Users import it in the tray app (open the file, drop
it on the window, or a link from 'wssh profile link'), or run
'wssh connect --profile FILE'.

Options:
  --name NAME              the endpoint's name as users see it (default: the host)
  --ca FILE                a CA certificate (PEM) to trust, put into the profile;
                           may be repeated, a file may hold a chain
  --pin FINGERPRINT        a sha256 fingerprint the certificate must have
                           (sha256/BASE64 or AB:CD:… hex); may be repeated
  --pin-from-server        connect to the endpoint once and pin the certificate it
                           presents; its subject, issuer and dates are printed on
                           stderr for you to check
  --pin-only               the pin replaces the issuer and name checks (a server
                           with a self-signed certificate); dates are still checked
  --servername NAME        TLS server name (SNI) to send and check instead of the host
  --user NAME              the user name for the server's Basic auth (each user
                           types their own secret)
  --proxy URL              reach the endpoint through this HTTP proxy, http://HOST:PORT
  --no-proxy               always connect directly
                           (neither: the system's proxy settings, or HTTPS_PROXY)
  -o, --output FILE        write the profile to FILE instead of stdout
`,
    options: {
      name: { type: 'string' },
      ca: { type: 'string', multiple: true },
      pin: { type: 'string', multiple: true },
      'pin-from-server': { type: 'boolean', default: false },
      'pin-only': { type: 'boolean', default: false },
      servername: { type: 'string' },
      user: { type: 'string' },
      proxy: { type: 'string' },
      'no-proxy': { type: 'boolean', default: false },
      output: { type: 'string', short: 'o' },
    },
    positionals: 1,
    run: runProfileCreate,
  },
  'profile show': {
    usage: `Usage: wssh profile show FILE

Prints what an endpoint profile holds: name, endpoint, user, proxy mode, and
each CA certificate (subject, issuer, dates, fingerprint), pin and TLS setting.
A file that is not a valid profile is refused with what is wrong and where.
`,
    options: {},
    positionals: 1,
    run: runProfileShow,
  },
  'profile link': {
    usage: `Usage: wssh profile link FILE

Prints a wssh://import?profile=… link that carries the profile: clicked on a
machine with the tray app, it opens the app's import confirmation.
`,
    options: {},
    positionals: 1,
    run: runProfileLink,
  },
} as const;

const PROFILE_USAGE = `Usage: wssh profile create <endpoint> [options] [-o FILE]
       wssh profile show FILE
       wssh profile link FILE

Endpoint profiles (NAME.wssh): what users need to reach an endpoint, with no secret.
Run 'wssh profile create --help' for its options.
`;


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
  if (name === 'profile') {
    const [sub, ...subRest] = rest;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(PROFILE_USAGE);
      return sub === undefined ? 2 : 0;
    }
    if (!['create', 'show', 'link'].includes(sub)) {
      throw new UsageError(`unknown command "profile ${sub}" (expected profile create, show or link; see wssh profile --help)`);
    }
    return runCommand(`profile ${sub}`, subRest);
  }
  if (!Object.hasOwn(COMMANDS, name) || name.includes(' ')) {
    throw new UsageError(`unknown command "${name}" (expected server, connect, client or profile; see wssh --help)`);
  }
  return runCommand(name, rest);
}

async function runCommand(name: string, rest: string[]): Promise<number> {
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
  const positionals = typeof command.positionals === 'function' ? command.positionals(values) : command.positionals;
  if (parsed.positionals.length !== positionals) {
    const expected = positionals === 0 ? 'no arguments' : 'one argument';
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
