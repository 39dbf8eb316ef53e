/**
 * The commands' options and help, and their parsing. Every default shown in
 * a --help is the constant the parser applies (no number is written twice),
 * so changing a default where it is declared changes both.
 */
import { parseArgs, ParseArgsConfig } from 'node:util';
import { runServer } from './serverCommand';
import { runConnect } from './connectCommand';
import { runClient } from './clientCommand';
import { DEFAULT_IDLE_MAX_SEC, runDoctorCommand } from './doctorCommand';
import { LOG_FILE_OPTION, LOG_FILE_USAGE } from './logFileOption';
import { runProfileCreate, runProfileLink, runProfileShow } from './profileCommand';
import { CommandValues, ENDPOINT_OPTIONS, ENDPOINT_OPTIONS_USAGE, UsageError } from './options';
import { formatListen } from './listenAddress';
import { DEFAULT_LIMITS } from '../../server/limits';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_RESUME_TIMEOUT_MS,
  DEFAULT_SERVER_DRAIN_MS,
  DEFAULT_SERVER_HOST,
  DEFAULT_SERVER_PORT,
} from '../../server/wsshServer';
import { DEFAULT_HOSTS_FILE } from '../../server/policy/policyWatcher';
import { DEFAULT_TRUST_PROXY } from '../../server/clientAddress';
import { DEFAULT_STATS_INTERVAL_MS } from '../../server/metrics';
import { DEFAULT_PROXY_HOST, DEFAULT_PROXY_PORT } from '../core/localProxy/connectProxy';
import { DEFAULT_KEEPALIVE_MS } from '../core/tunnel/keepalive';
import { DEFAULT_MAX_BUFFERED } from '../core/tunnel/bufferBudget';
import { DEFAULT_HIGH_WATER_MARK } from '../core/tunnel/relay';

/** Milliseconds as the seconds an option takes: `30000` → `'30'`. */
function seconds(ms: number): string {
  return String(ms / 1000);
}

const SERVER_LISTEN = formatListen({ host: DEFAULT_SERVER_HOST, port: DEFAULT_SERVER_PORT });
const PROXY_LISTEN = formatListen({ host: DEFAULT_PROXY_HOST, port: DEFAULT_PROXY_PORT });

const KEEPALIVE_OPTION = { type: 'string', default: seconds(DEFAULT_KEEPALIVE_MS) } as const;
// The memory options of the two long-running commands (bufferBudget.ts, relay.ts).
const BUFFER_OPTIONS = {
  'max-buffered': { type: 'string', default: String(DEFAULT_MAX_BUFFERED / 1024 / 1024) },
  'tunnel-buffer': { type: 'string', default: String(DEFAULT_HIGH_WATER_MARK / 1024) },
} as const;
const BUFFER_USAGE = `  --max-buffered MIB       bytes buffered across all tunnels (send and write buffers) before
                           reading pauses in the tunnels that hold the most (default ${DEFAULT_MAX_BUFFERED / 1024 / 1024})
  --tunnel-buffer KIB      bytes one tunnel queues toward the WebSocket before its reading
                           pauses (default ${DEFAULT_HIGH_WATER_MARK / 1024})`;

const KEEPALIVE_USAGE = `  --keepalive SECONDS      WebSocket ping interval, 0 for none (default ${seconds(DEFAULT_KEEPALIVE_MS)})`;

export const USAGE = `Usage: wssh <command> [options]

SSH over WebSocket.

Commands:
  server    run the WSSH server: relays each WebSocket to an SSH server hosts.yml allows
  connect   run a local HTTP CONNECT proxy (for PuTTY, plink, WinSCP) through an endpoint
  client    relay stdin/stdout through an endpoint (for OpenSSH's ProxyCommand)
  doctor    walk the path to an endpoint step by step and say where it breaks
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

export const COMMANDS = {
  server: {
    usage: `Usage: wssh server [--listen ${SERVER_LISTEN}] [--hosts ${DEFAULT_HOSTS_FILE}] [options]
       wssh server --hash-secret NAME >> users.yml

Accepts a WebSocket per tunnel at ws://HOST:PORT/<any path>/<target> and relays
it to the SSH server that hosts.yml allows. Run it behind nginx for TLS.
GET /healthz answers 200 while it runs, GET /readyz 200 while it takes new
tunnels (503 while draining, waiting for its config or at --max-tunnels),
GET /metrics the counters.

Options:
  --listen ADDR            where to listen, PORT or HOST:PORT (default ${SERVER_LISTEN})
  --hosts FILE             the hosts.yml policy; reloaded when it changes (default ${DEFAULT_HOSTS_FILE})
${KEEPALIVE_USAGE}
  --connect-timeout SEC    how long to wait for a target's TCP connect (default ${seconds(DEFAULT_CONNECT_TIMEOUT_MS)})
  --drain SECONDS          on SIGTERM, how long open tunnels may finish (default ${seconds(DEFAULT_SERVER_DRAIN_MS)});
                           new ones get 503 meanwhile
  --wait-for-config        a hosts.yml or users file that does not load at start
                           is waited for (not ready, tunnels 503) instead of
                           stopping the server
  --resume-window SECONDS  how long a tunnel whose WebSocket broke keeps its SSH connection
                           for the client to resume it, 0 to offer no resume
                           (default ${seconds(DEFAULT_RESUME_TIMEOUT_MS)})
  --trust-proxy WHEN       take the client address from X-Forwarded-For:
                           loopback (from nginx on this host), always, never,
                           or the proxies' addresses/CIDRs, comma-separated
                           (default ${DEFAULT_TRUST_PROXY}); /metrics is served only to
                           loopback and the addresses listed
  --allow-origin ORIGIN    let web pages of ORIGIN (https://host[:port]) open tunnels;
                           may be repeated. A request with any other Origin header
                           (a browser page) gets 403; WSSH clients send none
                           (default: none)

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
  --handshake-timeout SEC  time for the upgrade request's headers (default ${seconds(DEFAULT_LIMITS.handshakeTimeoutMs)}); then 408
  --idle-timeout SECONDS   close a tunnel when no byte moved either way for this long,
                           0 for never (default ${seconds(DEFAULT_LIMITS.idleTimeoutMs)})
  --max-path BYTES         longest request path (default ${DEFAULT_LIMITS.maxPathLength}); longer: 414
  --stats-interval SEC     log the counters this often, 0 for never (default ${seconds(DEFAULT_STATS_INTERVAL_MS)})
${LOG_FILE_USAGE}
${BUFFER_USAGE}

SIGHUP reloads hosts.yml and the users file at once.
`,
    options: {
      listen: { type: 'string', default: SERVER_LISTEN },
      hosts: { type: 'string', default: DEFAULT_HOSTS_FILE },
      keepalive: KEEPALIVE_OPTION,
      'connect-timeout': { type: 'string', default: seconds(DEFAULT_CONNECT_TIMEOUT_MS) },
      drain: { type: 'string', default: seconds(DEFAULT_SERVER_DRAIN_MS) },
      'resume-window': { type: 'string', default: seconds(DEFAULT_RESUME_TIMEOUT_MS) },
      'wait-for-config': { type: 'boolean' },
      'trust-proxy': { type: 'string', default: DEFAULT_TRUST_PROXY },
      'allow-origin': { type: 'string', multiple: true },
      users: { type: 'string' },
      'hash-secret': { type: 'string' },
      'max-tunnels': { type: 'string', default: String(DEFAULT_LIMITS.maxTunnels) },
      'max-tunnels-per-client': { type: 'string', default: String(DEFAULT_LIMITS.maxTunnelsPerClient) },
      'handshake-timeout': { type: 'string', default: seconds(DEFAULT_LIMITS.handshakeTimeoutMs) },
      'idle-timeout': { type: 'string', default: seconds(DEFAULT_LIMITS.idleTimeoutMs) },
      'max-path': { type: 'string', default: String(DEFAULT_LIMITS.maxPathLength) },
      'stats-interval': { type: 'string', default: seconds(DEFAULT_STATS_INTERVAL_MS) },
      ...LOG_FILE_OPTION,
      ...BUFFER_OPTIONS,
    },
    positionals: 0,
    run: runServer,
  },
  connect: {
    usage: `Usage: wssh connect <endpoint> [--listen ${PROXY_LISTEN}] [options]
       wssh connect --profile FILE [--listen ${PROXY_LISTEN}] [options]

Serves an HTTP CONNECT proxy; each CONNECT host:port becomes a tunnel through
<endpoint> (ws://… or wss://…, e.g. wss://gw.example.com/ssh). In PuTTY:
Connection > Proxy: type HTTP, host ${DEFAULT_PROXY_HOST}, port ${DEFAULT_PROXY_PORT}.

The same port answers SOCKS5 and SOCKS4/4a (PuTTY's proxy types SOCKS 5 and 4).

Options:
  --listen ADDR            where to listen, PORT or HOST:PORT (default ${PROXY_LISTEN})
${KEEPALIVE_USAGE}
  --quiet                  do not log tunnels opening and closing
${LOG_FILE_USAGE}
${BUFFER_USAGE}
  --proxy-user USER:PASS   clients must give this user name and password (HTTP
                           Basic on CONNECT: 407 otherwise; SOCKS5 user/password;
                           SOCKS4 refused), for a shared machine. "generate" makes
                           one and logs it (default: no credential)
${PROFILE_OPTION_USAGE}${ENDPOINT_OPTIONS_USAGE}`,
    options: {
      listen: { type: 'string', default: PROXY_LISTEN },
      keepalive: KEEPALIVE_OPTION,
      quiet: { type: 'boolean', default: false },
      ...LOG_FILE_OPTION,
      ...BUFFER_OPTIONS,
      'proxy-user': { type: 'string' },
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
${KEEPALIVE_USAGE}
${LOG_FILE_USAGE}
${PROFILE_OPTION_USAGE}${ENDPOINT_OPTIONS_USAGE}`,
    options: {
      keepalive: KEEPALIVE_OPTION,
      ...LOG_FILE_OPTION,
      profile: { type: 'string' },
      ...ENDPOINT_OPTIONS,
    },
    positionals: 1,
    run: runClient,
  },
  doctor: {
    usage: `Usage: wssh doctor <endpoint> [<host>[:port]] [options]
       wssh doctor --profile FILE [<host>[:port]] [options]

Walks the path to <endpoint> (and through it to the SSH server <host>) step by
step, as a tunnel takes it, and says where it breaks: the route (a proxy, a PAC
answer, DIRECT) and why, DNS, the TCP connection, the proxy's sign-in, TLS (the
certificate chain, who issued it, TLS inspection), the WebSocket upgrade, and
the target (the server's policy, the SSH banner). One line per step with its
time and answer; for a failure the likely cause and the fix. Without a host,
the path is checked up to the WSSH server. Exit code 0 when the path works,
1 when it does not.

Options:
  --json                   print the steps as one JSON document instead
  --idle                   then hold the tunnel idle, sending nothing, and say after
                           how long the path cut it and which keepalive keeps it
  --idle-max SECONDS       the longest --idle holds it (default ${DEFAULT_IDLE_MAX_SEC})
  --save FILE              also write a diagnostics file for an admin: versions, the
                           endpoint's settings without secrets, the proxy variables,
                           and this run
${PROFILE_OPTION_USAGE}${ENDPOINT_OPTIONS_USAGE}`,
    options: {
      json: { type: 'boolean', default: false },
      idle: { type: 'boolean', default: false },
      'idle-max': { type: 'string' },
      save: { type: 'string' },
      profile: { type: 'string' },
      ...ENDPOINT_OPTIONS,
    },
    // The endpoint (unless a profile gives it), then the host, which may be left out.
    positionals: (values: CommandValues): [number, number] => (values.profile === undefined ? [1, 2] : [0, 1]),
    run: runDoctorCommand,
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
  --name NAME              the endpoint's name as users see it (default: the
                           --servername, else the host)
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

export const PROFILE_USAGE = `Usage: wssh profile create <endpoint> [options] [-o FILE]
       wssh profile show FILE
       wssh profile link FILE

Endpoint profiles (NAME.wssh): what users need to reach an endpoint, with no secret.
Run 'wssh profile create --help' for its options.
`;

export type CommandName = keyof typeof COMMANDS;

/** A command as typed: `server`, …, or `profile create` (two words). */
export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** The number of arguments a command takes with these options, as the fewest and the most. */
export function positionalCount(name: CommandName, values: CommandValues): [number, number] {
  const positionals: number | ((values: CommandValues) => number | [number, number]) = COMMANDS[name].positionals;
  const count = typeof positionals === 'function' ? positionals(values) : positionals;
  return typeof count === 'number' ? [count, count] : count;
}

/**
 * The command line of one command, parsed with its defaults applied.
 * @throws {UsageError} for an unknown option or a missing value.
 */
export function parseCommand(name: CommandName, args: string[]): { values: CommandValues; positionals: string[] } {
  const command = COMMANDS[name];
  try {
    const parsed = parseArgs({
      args,
      options: { ...COMMON, ...command.options } as ParseArgsConfig['options'],
      allowPositionals: true,
      strict: true,
    });
    return { values: parsed.values as CommandValues, positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]} (see wssh ${name} --help)`);
  }
}
