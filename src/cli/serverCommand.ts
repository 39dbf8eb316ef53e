/**
 * `wssh server`: the WSSH server with its hosts.yml (and users file, when
 * given), until SIGTERM; SIGHUP reloads both files. `--hash-secret NAME`
 * instead prints a users-file line and exits.
 */
import type { AddressInfo } from 'node:net';
import { DEFAULT_SERVER_HOST, WsshServer, type WsshServerOptions } from '../../server/wsshServer';
import { formatUserLine, hashSecret, userNameProblem } from '../../server/auth/credentials';
import type { ServerLimits } from '../../server/limits';
import { parseTrustProxy } from '../../server/clientAddress';
import { CommandValues, UsageError, maxBufferedOption, secondsOption, tunnelBufferOption } from './options';
import { BufferBudget } from '../core/tunnel/bufferBudget';
import { normalizeOrigin } from '../../server/upgradeRequest';
import type { ListenAddress } from '../shared/listenAddress';
import { isLoopbackHost } from '../shared/endpoint';
import { promptHidden } from './terminalPrompt';
import { formatListen, parseListen } from './listenAddress';
import { logLine } from './logLine';
import { MAX_RESUME_TIMEOUT_SEC } from '../core/tunnel/resumeProtocol';
import { openServerConfig } from './serverConfig';

/** What `wssh server` runs with: its options, checked, in the units the server takes. */
export interface ServerSettings extends Required<Pick<WsshServerOptions, 'keepaliveMs' | 'connectTimeoutMs' | 'trustProxy'>>, ServerLimits {
  listen: ListenAddress;
  /** `--allow-origin`, normalised: web page origins that may open tunnels. */
  allowOrigins: string[];
  hosts: string;
  users: string | undefined;
  /** --wait-for-config: a file that does not load at start is waited for, not fatal. */
  waitForConfig: boolean;
  drainMs: number;
  /** `--resume-window`: how long a broken resumable tunnel is parked, in ms; 0: no resume offered. */
  resumeTimeoutMs: number;
  statsIntervalMs: number;
  /** `--max-buffered`, in bytes. */
  maxBufferedBytes: number;
  /** `--tunnel-buffer`, in bytes. */
  highWaterMark: number;
}

/**
 * The server's options from parsed values (commands.ts applies the defaults).
 * @throws {UsageError} for a value that is not usable.
 */
export function serverSettings(values: CommandValues): ServerSettings {
  const listen = parseListen(String(values.listen), DEFAULT_SERVER_HOST);
  let trustProxy;
  try {
    trustProxy = parseTrustProxy(String(values['trust-proxy']));
  } catch (err) {
    throw new UsageError(`--trust-proxy "${values['trust-proxy']}": ${(err as Error).message}`);
  }
  const settings: ServerSettings = {
    listen,
    hosts: String(values.hosts),
    users: typeof values.users === 'string' ? values.users : undefined,
    waitForConfig: values['wait-for-config'] === true,
    trustProxy,
    allowOrigins: originsOption(values['allow-origin']),
    keepaliveMs: secondsOption(values, 'keepalive'),
    connectTimeoutMs: secondsOption(values, 'connect-timeout'),
    drainMs: secondsOption(values, 'drain'),
    resumeTimeoutMs: secondsOption(values, 'resume-window'),
    maxTunnels: countOption(values, 'max-tunnels'),
    maxTunnelsPerClient: countOption(values, 'max-tunnels-per-client'),
    maxPathLength: countOption(values, 'max-path'),
    handshakeTimeoutMs: secondsOption(values, 'handshake-timeout'),
    idleTimeoutMs: secondsOption(values, 'idle-timeout'),
    statsIntervalMs: secondsOption(values, 'stats-interval'),
    maxBufferedBytes: maxBufferedOption(values),
    highWaterMark: tunnelBufferOption(values),
  };
  if (settings.handshakeTimeoutMs === 0) throw new UsageError('--handshake-timeout must be more than 0 seconds');
  if (settings.maxPathLength === 0) throw new UsageError('--max-path must be more than 0 bytes');
  if (settings.resumeTimeoutMs > MAX_RESUME_TIMEOUT_SEC * 1000)
    throw new UsageError(`--resume-window must be at most ${MAX_RESUME_TIMEOUT_SEC} seconds (a day)`);
  return settings;
}

/**
 * The warning for a server with users that listens on `host`: it speaks plain
 * ws://, so off loopback the Basic auth secrets cross the network readable.
 */
export function plainUsersWarning(host: string): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  return `users: listening on ${host} without TLS: Basic auth secrets are readable on the network; put nginx with TLS in front and listen on loopback`;
}

/**
 * Runs the server until SIGTERM or SIGINT. `onListening` is told the address
 * once it listens (the demo starts its proxy then).
 */
export async function runServer(values: CommandValues, _positionals: string[] = [], onListening?: (address: AddressInfo) => void): Promise<number> {
  if (typeof values['hash-secret'] === 'string') return printUserLine(values['hash-secret']);
  const settings = serverSettings(values);
  const { listen, drainMs, statsIntervalMs } = settings;

  // A broken hosts.yml (or users file) at start is fatal: better no server
  // than a guessed policy. With --wait-for-config it is waited for, and the
  // server refuses every tunnel until then.
  // Parked sessions whose target a reloaded policy denies end then, not at their resume.
  let policyReloaded = () => {};
  const config = openServerConfig({ ...settings, onPolicyReload: () => policyReloaded() });
  const plainWarning = settings.users !== undefined && plainUsersWarning(listen.host);
  if (plainWarning) logLine(plainWarning);

  // systemd's ExecReload sends SIGHUP: reload now rather than at the next
  // poll. (Without a handler, SIGHUP would end the process.)
  const reload = () => {
    logLine('SIGHUP: reloading');
    config.reload();
  };
  process.on('SIGHUP', reload);

  const server = new WsshServer({
    policy: config.policy,
    users: config.users,
    waitingFor: config.waitingFor,
    keepaliveMs: settings.keepaliveMs,
    connectTimeoutMs: settings.connectTimeoutMs,
    trustProxy: settings.trustProxy,
    allowOrigins: settings.allowOrigins,
    maxTunnels: settings.maxTunnels,
    maxTunnelsPerClient: settings.maxTunnelsPerClient,
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
    idleTimeoutMs: settings.idleTimeoutMs,
    resumeTimeoutMs: settings.resumeTimeoutMs,
    maxPathLength: settings.maxPathLength,
    budget: new BufferBudget(settings.maxBufferedBytes),
    highWaterMark: settings.highWaterMark,
    log: logLine,
  });
  policyReloaded = () => server.policyChanged();
  // Without a listener an 'error' (an accept failure) would end the process.
  server.on('error', (err) => logLine(`server: ${err.message}`));
  let address;
  try {
    address = await server.listen(listen.port, listen.host);
  } catch (err) {
    process.off('SIGHUP', reload);
    config.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`${formatListen(listen)} is already in use: is another wssh server running? (try --listen)`, { cause: err });
    throw err;
  }
  logLine(`wssh server listening on ws://${formatListen({ host: address.address, port: address.port })}/`);
  onListening?.(address);
  const stats = statsIntervalMs > 0 ? setInterval(() => logLine(server.metrics.logLine()), statsIntervalMs) : undefined;
  stats?.unref();

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logLine(`${signal}: not ready, not accepting new tunnels; ${server.tracker.size} open, waiting up to ${drainMs / 1000}s`);
      config.close();
      clearInterval(stats);
      server.close(drainMs).then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.off('SIGHUP', reload);
  if (statsIntervalMs > 0) logLine(server.metrics.logLine());
  logLine('wssh server stopped');
  return 0;
}

/**
 * `--hash-secret NAME`: reads the secret (without echo from a terminal, else
 * the first line of stdin, so it never appears in a process list or shell
 * history) and prints `NAME: scrypt$…` for the users file.
 */
async function printUserLine(user: string): Promise<number> {
  const problem = userNameProblem(user);
  if (problem) throw new UsageError(`--hash-secret "${user}": ${problem}`);
  let secret: string;
  if (process.stdin.isTTY) {
    secret = await promptHidden(`secret for ${user}: `, 'cancelled; nothing printed');
    const again = await promptHidden('the same again: ', 'cancelled; nothing printed');
    if (again !== secret) throw new Error('the two secrets differ; nothing printed');
  } else {
    secret = await firstLine(process.stdin);
  }
  if (secret === '') throw new Error('empty secret; nothing printed');
  process.stdout.write(formatUserLine(user, await hashSecret(secret)) + '\n');
  return 0;
}

/** The first line of a stream, without its line ending. */
function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = () => {
      stream.off('data', onData);
      stream.pause();
      resolve(text.split(/\r?\n/, 1)[0]);
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      if (text.includes('\n')) done();
    };
    stream.on('data', onData);
    stream.once('end', done);
    stream.once('error', reject);
  });
}

/** `--allow-origin ORIGIN`, repeatable: each a browser origin, normalised. */
function originsOption(value: CommandValues[string]): string[] {
  const given = value === undefined || typeof value === 'boolean' ? [] : Array.isArray(value) ? value : [value];
  return given.map((origin) => {
    try {
      return normalizeOrigin(origin);
    } catch (err) {
      throw new UsageError(`--allow-origin ${(err as Error).message}`);
    }
  });
}

/** A `--name N` option: a whole number, 0 allowed (no limit). */
function countOption(values: CommandValues, name: string): number {
  const text = String(values[name]);
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`--${name} "${text}": expected a whole number`);
  return Number(text);
}
