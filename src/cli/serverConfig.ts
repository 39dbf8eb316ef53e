/**
 * `wssh server`'s config files: hosts.yml and the users file, loaded,
 * watched and reloaded (SIGHUP), each change logged. A file that does not
 * load at start stops the server, or, with --wait-for-config, is waited for:
 * until it loads the server is not ready and refuses every tunnel (503).
 */
import { PolicyWatcher } from '../../server/policy/policyWatcher';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { WatchedFile } from '../../server/configFiles/watchedFile';
import { AwaitedFile } from '../../server/configFiles/awaitedFile';
import { Credentials, CredentialsError, loadCredentialsFile } from '../../server/auth/credentials';
import { logLine } from './logLine';

export interface ServerConfigPaths {
  hosts: string;
  /** The users file; none for no authentication. */
  users: string | undefined;
  /** Wait for a file that does not load at start instead of throwing. */
  waitForConfig: boolean;
  /** Told after each reload of hosts.yml (the server ends parked sessions the new policy denies). */
  onPolicyReload?: () => void;
}

/** The files in force, for the server's callbacks. */
export interface ServerConfig {
  /** The policy in force (none allows anything until hosts.yml has loaded). */
  policy(): HostsPolicy;
  /** The users in force, when there is a users file (nobody until it has loaded). */
  users: (() => Credentials) | undefined;
  /** The files not loaded yet, by name, for readiness. */
  waitingFor(): string[];
  /** SIGHUP: reload both now (or try a file not loaded yet again). */
  reload(): void;
  close(): void;
}

/** What waitingFor() calls each file; /readyz says "waiting for …". */
const HOSTS_NAME = 'hosts.yml';
const USERS_NAME = 'users file';

/**
 * Loads and watches the files.
 * @throws the file's error (naming the file, line and column) when one does not load, unless `waitForConfig`.
 */
export function openServerConfig(paths: ServerConfigPaths): ServerConfig {
  const hosts = openFile(paths, () => watchHosts(paths.hosts, paths.onPolicyReload), 'hosts');
  let users: Loaded<WatchedFile<Credentials, CredentialsError>> | undefined;
  try {
    users = paths.users === undefined ? undefined : openFile(paths, () => watchUsers(paths.users!), 'users');
  } catch (err) {
    hosts.close();
    throw err;
  }
  const noPolicy = HostsPolicy.parse('', paths.hosts);
  const nobody = Credentials.parse('', paths.users);
  return {
    policy: () => hosts.file()?.policy ?? noPolicy,
    users: users && (() => users.file()?.value ?? nobody),
    waitingFor: () => [...(hosts.file() ? [] : [HOSTS_NAME]), ...(!users || users.file() ? [] : [USERS_NAME])],
    reload() {
      hosts.reload();
      users?.reload();
    },
    close() {
      hosts.close();
      users?.close();
    },
  };
}

/** A file, loaded now or (with --wait-for-config) later. */
interface Loaded<F> {
  file(): F | undefined;
  reload(): void;
  close(): void;
}

function openFile<F extends WatchedFile<unknown, Error>>(paths: ServerConfigPaths, open: () => F, label: string): Loaded<F> {
  if (!paths.waitForConfig) {
    const file = open();
    return { file: () => file, reload: () => file.reload(), close: () => file.close() };
  }
  const awaited = new AwaitedFile(open);
  awaited.on('error', (err) => logLine(`${label}: ${err.message}; not ready until it loads`));
  awaited.start();
  return {
    file: () => awaited.file,
    reload: () => (awaited.file ? awaited.file.reload() : awaited.retry()),
    close: () => awaited.close(),
  };
}

/** Loads hosts.yml and keeps it current, logging each change. */
function watchHosts(path: string, onReload: () => void = () => {}): PolicyWatcher {
  const watcher = new PolicyWatcher(path);
  logLine(`hosts: ${watcher.path}: ${watcher.policy.ruleCount} rules`);
  for (const warning of watcher.policy.warnings) logLine(`hosts: warning: ${warning}`);
  watcher.on('reload', (policy) => {
    logLine(`hosts: reloaded ${watcher.path}: ${policy.ruleCount} rules`);
    for (const warning of policy.warnings) logLine(`hosts: warning: ${warning}`);
    onReload();
  });
  watcher.on('error', (err) => logLine(`hosts: ${err.message}; keeping the last good policy`));
  return watcher;
}

/** Loads the users file and keeps it current, logging each change. */
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
