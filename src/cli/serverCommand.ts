/**
 * `wssh server`: the WSSH server with its hosts.yml (and users file, when
 * given), until SIGTERM; SIGHUP reloads both files. `--hash-secret NAME`
 * instead prints a users-file line and exits.
 */
import { DEFAULT_SERVER_HOST, WsshServer } from '../../server/wsshServer';
import { PolicyWatcher } from '../../server/policyWatcher';
import { WatchedFile } from '../../server/watchedFile';
import { Credentials, CredentialsError, formatUserLine, hashSecret, loadCredentialsFile, userNameProblem } from '../../server/credentials';
import { DEFAULT_LIMITS } from '../../server/limits';
import { parseTrustProxy } from '../../server/clientAddress';
import { CommandValues, UsageError, logLine, maxBufferedOption, secondsOption, tunnelBufferOption } from './options';
import { formatListen, parseListen } from './listenAddress';

export async function runServer(values: CommandValues): Promise<number> {
  if (typeof values['hash-secret'] === 'string') return printUserLine(values['hash-secret']);

  const listen = parseListen(String(values.listen), DEFAULT_SERVER_HOST);
  let trustProxy;
  try {
    trustProxy = parseTrustProxy(String(values['trust-proxy']));
  } catch (err) {
    throw new UsageError(`--trust-proxy "${values['trust-proxy']}": ${(err as Error).message}`);
  }
  const keepaliveMs = secondsOption(values, 'keepalive');
  const connectTimeoutMs = secondsOption(values, 'connect-timeout');
  const drainMs = secondsOption(values, 'drain');
  // The options below are newer than the demo's and embedders' value sets: absent means the default.
  const withDefault = (name: string, fallback: number) => ({ [name]: values[name] ?? String(fallback) });
  const maxTunnels = countOption(withDefault('max-tunnels', DEFAULT_LIMITS.maxTunnels), 'max-tunnels');
  const maxTunnelsPerClient = countOption(
    withDefault('max-tunnels-per-client', DEFAULT_LIMITS.maxTunnelsPerClient),
    'max-tunnels-per-client',
  );
  const maxPathLength = countOption(withDefault('max-path', DEFAULT_LIMITS.maxPathLength), 'max-path');
  const handshakeTimeoutMs = secondsOption(
    withDefault('handshake-timeout', DEFAULT_LIMITS.handshakeTimeoutMs / 1000),
    'handshake-timeout',
  );
  const idleTimeoutMs = secondsOption(withDefault('idle-timeout', DEFAULT_LIMITS.idleTimeoutMs / 1000), 'idle-timeout');
  const statsIntervalMs = secondsOption(withDefault('stats-interval', 0), 'stats-interval');
  const budget = maxBufferedOption(values);
  const highWaterMark = tunnelBufferOption(values);
  if (handshakeTimeoutMs === 0) throw new UsageError('--handshake-timeout must be more than 0 seconds');
  if (maxPathLength === 0) throw new UsageError('--max-path must be more than 0 bytes');

  // A broken hosts.yml (or users file) at start is fatal: better no server than a guessed policy.
  const watcher = new PolicyWatcher(String(values.hosts));
  logLine(`hosts: ${watcher.path}: ${watcher.policy.ruleCount} rules`);
  watcher.on('reload', (policy) => logLine(`hosts: reloaded ${watcher.path}: ${policy.ruleCount} rules`));
  watcher.on('error', (err) => logLine(`hosts: ${err.message}; keeping the last good policy`));

  const users = typeof values.users === 'string' ? watchUsers(values.users) : undefined;
  if (users && !isLoopbackHost(listen.host)) {
    logLine(
      `users: listening on ${listen.host} without TLS: Basic auth secrets are readable on the network; ` +
        'put nginx with TLS in front and listen on loopback',
    );
  }

  // systemd's ExecReload sends SIGHUP: reload now rather than at the next
  // poll. (Without a handler, SIGHUP would end the process.)
  const reload = () => {
    logLine('SIGHUP: reloading');
    watcher.reload();
    users?.reload();
  };
  process.on('SIGHUP', reload);

  const server = new WsshServer({
    policy: () => watcher.policy,
    users: users && (() => users.value),
    keepaliveMs,
    connectTimeoutMs,
    trustProxy,
    maxTunnels,
    maxTunnelsPerClient,
    handshakeTimeoutMs,
    idleTimeoutMs,
    maxPathLength,
    budget,
    highWaterMark,
    log: logLine,
  });
  let address;
  try {
    address = await server.listen(listen.port, listen.host);
  } catch (err) {
    process.off('SIGHUP', reload);
    watcher.close();
    users?.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`${formatListen(listen)} is already in use: is another wssh server running? (try --listen)`);
    throw err;
  }
  logLine(`wssh server listening on ws://${formatListen({ host: address.address, port: address.port })}/`);
  const stats = statsIntervalMs > 0 ? setInterval(() => logLine(server.metrics.logLine()), statsIntervalMs) : undefined;
  stats?.unref();

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logLine(`${signal}: not accepting new tunnels; ${server.tracker.size} open, waiting up to ${drainMs / 1000}s`);
      watcher.close();
      users?.close();
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

/** Loads the users file (fatal when broken) and keeps it current, logging each change. */
function watchUsers(path: string): WatchedFile<Credentials, CredentialsError> {
  const users = new WatchedFile(path, {
    load: loadCredentialsFile,
    asError: (e, file) => (e instanceof CredentialsError ? e : new CredentialsError(String(e), file)),
    warningType: 'CredentialsWarning',
    noun: 'users',
  });
  const describe = (c: Credentials) =>
    c.userCount === 0
      ? 'no users: every tunnel is refused (add one with wssh server --hash-secret NAME)'
      : `${c.userCount} user${c.userCount === 1 ? '' : 's'}; tunnels need a user name and secret`;
  logLine(`users: ${users.path}: ${describe(users.value)}`);
  users.on('reload', (c) => logLine(`users: reloaded ${users.path}: ${describe(c)}`));
  users.on('error', (err) => logLine(`users: ${err.message}; keeping the last good users`));
  return users;
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
    secret = await promptHidden(`secret for ${user}: `);
    const again = await promptHidden('the same again: ');
    if (again !== secret) throw new Error('the two secrets differ; nothing printed');
  } else {
    secret = await firstLine(process.stdin);
  }
  if (secret === '') throw new Error('empty secret; nothing printed');
  process.stdout.write(formatUserLine(user, await hashSecret(secret)) + '\n');
  return 0;
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new Error('cancelled; nothing printed'));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
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

/** A `--name N` option: a whole number, 0 allowed (no limit). */
function countOption(values: CommandValues, name: string): number {
  const text = String(values[name]);
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`--${name} "${text}": expected a whole number`);
  return Number(text);
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
