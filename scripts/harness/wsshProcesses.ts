/**
 * Our own programs as a user runs them: `wssh server` and `wssh connect` from
 * the build output, as child processes, for the bench, the soak and the tests.
 */
import path from 'node:path';
import { startListening, type ListeningDaemon } from './processes';

/** The built CLI, dist/src/cli/wssh.js. */
export const WSSH_CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'wssh.js');

/** What `wssh server` prints once it listens; group 1 is the port. */
export const SERVER_READY = /listening on ws:\/\/[^\s]*:(\d+)\//;
/** What `wssh connect` prints once it listens; group 1 is the port. */
export const CONNECT_READY = /CONNECT proxy on [^\s]*:(\d+) /;

/**
 * Extra arguments for node itself, from BENCH_NODE_ARGS (space-separated),
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where a wssh process
 * spends its CPU during `npm run bench` (node refuses --cpu-prof in NODE_OPTIONS).
 */
export function nodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

/**
 * Starts `wssh server --listen 127.0.0.1:0 --hosts FILE …`; resolves once it
 * listens. `nodeFlags`: node's own, before the script (the systemd unit's, the bench's).
 */
export function startServerProcess(hostsFile: string, extra: string[] = [], name = 'wssh server', nodeFlags: string[] = []): Promise<ListeningDaemon> {
  return startListening(
    name,
    process.execPath,
    [...nodeArgs(), ...nodeFlags, WSSH_CLI, 'server', '--listen', '127.0.0.1:0', '--hosts', hostsFile, ...extra],
    SERVER_READY,
  );
}

/** Starts `wssh connect ENDPOINT --listen 127.0.0.1:0 …`; resolves once it listens. `env`: its environment (default: this process's). */
export function startConnectProcess(
  endpoint: string,
  extra: string[] = [],
  name = 'wssh connect',
  env?: NodeJS.ProcessEnv,
  nodeFlags: string[] = [],
): Promise<ListeningDaemon> {
  return startListening(
    name,
    process.execPath,
    [...nodeArgs(), ...nodeFlags, WSSH_CLI, 'connect', endpoint, '--listen', '127.0.0.1:0', ...extra],
    CONNECT_READY,
    { env },
  );
}
