/**
 * The two chains the bench compares, each two relaying processes between the
 * bench's client and its far end:
 *
 *   tunnel: client -> `wssh connect` (CONNECT proxy) -> `wssh server` -> far end
 *   plain:  client -> plainRelay                    -> plainRelay    -> far end
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { openTunnel } from '../harness/connectClient';
import { cpuSeconds, describeExit, procStatus, startListening, type ListeningDaemon } from '../harness/processes';
import { nodeArgs, startConnectProcess, startServerProcess } from '../harness/wsshProcesses';
import { DEFAULT_KEEPALIVE_SEC } from '../../src/shared/defaults';

export const HOST = '127.0.0.1';
const PLAIN_RELAY = path.join(__dirname, '..', 'plainRelay.js');

/** A relaying process of a chain. */
export interface Proc extends ListeningDaemon {
  /** Peak (VmHWM) or current (VmRSS) resident set, bytes; throws when it ended. */
  memory(field: 'VmHWM' | 'VmRSS'): number;
  /** CPU seconds (user + system) used so far; throws when it ended. */
  cpu(): number;
}

export interface Chain {
  kind: 'tunnel' | 'plain';
  /** The two relaying processes, the client's side first. */
  procs: [Proc, Proc];
  /** Opens a connection to the far end through the chain; resolves with a paused socket. */
  open(): Promise<net.Socket>;
  stop(): Promise<void>;
}

/** A listening daemon as a relaying process of a chain: its memory and CPU read from /proc. */
export function proc(daemon: ListeningDaemon): Proc {
  const alive = () => {
    const gone = describeExit(daemon);
    if (gone) throw new Error(`${daemon.name} (pid ${daemon.pid}) ended unexpectedly: ${gone}`);
  };
  return {
    ...daemon,
    memory: (field) => {
      alive();
      return procStatus(daemon.pid, field);
    },
    cpu: () => {
      alive();
      return cpuSeconds(daemon.pid);
    },
  };
}

export interface TunnelChainOptions {
  /** More arguments for `wssh server` (limits for the scale part). */
  serverArgs?: string[];
  /** More arguments for `wssh connect`. */
  connectArgs?: string[];
  /** Node's own flags for both wssh processes, before the script. */
  nodeFlags?: string[];
}

/** `wssh server` alone, allowing only the far end: for clients that dial it straight. */
export async function startServerAlone(
  farPort: number,
  dir: string,
  options: TunnelChainOptions = {},
): Promise<{ proc: Proc; url: string; stop(): Promise<void> }> {
  const hosts = path.join(dir, 'hosts.yml');
  fs.writeFileSync(hosts, `# written by scripts/bench\n"${HOST}:${farPort}": true\n`);
  const server = proc(
    await startServerProcess(hosts, ['--keepalive', String(DEFAULT_KEEPALIVE_SEC), ...(options.serverArgs ?? [])], 'wssh server', options.nodeFlags),
  );
  return { proc: server, url: `ws://${HOST}:${server.port}/ssh`, stop: () => server.stop() };
}

export async function startTunnel(farPort: number, dir: string, options: TunnelChainOptions = {}): Promise<Chain> {
  const { proc: server, url } = await startServerAlone(farPort, dir, options);
  let proxy: Proc;
  try {
    proxy = proc(await startConnectProcess(url, ['--quiet', ...(options.connectArgs ?? [])], 'wssh connect', undefined, options.nodeFlags));
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    kind: 'tunnel',
    procs: [proxy, server],
    // Generous: in a burst of thousands a tunnel may wait its turn for minutes on a loaded machine.
    open: () => openTunnel(proxy.port, `${HOST}:${farPort}`, { timeoutMs: 300_000 }),
    stop: async () => {
      await proxy.stop();
      await server.stop();
    },
  };
}

export async function startPlain(farPort: number): Promise<Chain> {
  const ready = /plain relay listening on [^\s]*:(\d+) /;
  const second = proc(await startListening('plain relay 2', process.execPath, [...nodeArgs(), PLAIN_RELAY, '0', String(farPort)], ready));
  let first: Proc;
  try {
    first = proc(await startListening('plain relay 1', process.execPath, [...nodeArgs(), PLAIN_RELAY, '0', String(second.port)], ready));
  } catch (err) {
    await second.stop();
    throw err;
  }
  return {
    kind: 'plain',
    procs: [first, second],
    open: async () => {
      const socket = await connect(first.port);
      socket.pause();
      return socket;
    },
    stop: async () => {
      await first.stop();
      await second.stop();
    },
  };
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port, allowHalfOpen: true, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
