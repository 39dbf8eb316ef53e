/**
 * Sizing the resume window: throughput of one tunnel over a link with
 * latency, for several windows and with resume off.
 *
 *   client -> wssh connect -> DelayRelay (DELAY each way) -> windowServer.js (WINDOW) -> far end
 *
 * A side sends at most a window of bytes its peer has not acknowledged, and
 * an acknowledgement comes back a round trip after the bytes left, so a
 * tunnel cannot move more than window / round trip: a window that does not
 * cover the link's bandwidth × delay slows every transfer on it. The link is
 * a relay in this process that delays each chunk (scripts/harness/delayRelay.ts;
 * `tc netem` needs a kernel with the netem qdisc and a network namespace,
 * which a bench cannot count on), with 64 MiB queued each way before it
 * stops reading: more than any window measured, so the window limits, not
 * the link. The server is windowServer.js: the window is the server's and
 * no option of `wssh server` sets it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DelayRelay } from '../harness/delayRelay';
import { startListening } from '../harness/processes';
import { nodeArgs, startConnectProcess, SERVER_READY } from '../harness/wsshProcesses';
import { HOST, proc, type Chain } from './chains';
import { openTunnel } from '../harness/connectClient';
import { progress } from './console';
import { FarEnd, MiB } from './farEnd';
import { download, stopAtExit, timedTransfer } from './measurements';

const WINDOW_SERVER = path.join(__dirname, 'windowServer.js');

export interface WindowOptions {
  /** One-way delay of the link, ms (50). */
  delayMs: number;
  /** Windows to measure, bytes. */
  windows: number[];
  /** The largest transfer, MiB (the bench's --size). */
  sizeMiB: number;
}

export interface WindowRow {
  /** Bytes, or undefined for resume off. */
  window?: number;
  size: number;
  upload: number;
  download: number;
}

/**
 * Bytes to move for a window: about 30 round trips' worth of it (a few
 * seconds whatever the window), at least 16 MiB, at most the bench's size.
 */
function sizeFor(window: number | undefined, maxSize: number): number {
  if (window === undefined) return maxSize;
  return Math.min(maxSize, Math.max(16 * MiB, 32 * window));
}

async function startWindowChain(far: FarEnd, dir: string, window: number | undefined, delayMs: number): Promise<Chain> {
  const hosts = path.join(dir, 'hosts-window.yml');
  fs.writeFileSync(hosts, `# written by scripts/bench\n"${HOST}:${far.port}": true\n`);
  const label = window === undefined ? 'off' : String(window);
  const server = proc(await startListening(`wssh server (window ${label})`, process.execPath, [...nodeArgs(), WINDOW_SERVER, hosts, label], SERVER_READY));
  const link = new DelayRelay(server.port, { delayMs });
  await link.listen();
  let proxy;
  try {
    const args = ['--quiet', '--no-proxy', ...(window === undefined ? ['--no-resume'] : [])];
    proxy = proc(await startConnectProcess(`ws://${HOST}:${link.port}/ssh`, args));
  } catch (err) {
    link.close();
    await server.stop();
    throw err;
  }
  return {
    kind: 'tunnel',
    procs: [proxy, server],
    open: () => openTunnel(proxy.port, `${HOST}:${far.port}`, { timeoutMs: 60_000 }),
    stop: async () => {
      await proxy.stop();
      link.close();
      await server.stop();
    },
  };
}

export async function measureWindows(options: WindowOptions, far: FarEnd, dir: string): Promise<WindowRow[]> {
  const rows: WindowRow[] = [];
  const maxSize = Math.round(options.sizeMiB * MiB);
  for (const window of [undefined, ...options.windows]) {
    const size = sizeFor(window, maxSize);
    const label = window === undefined ? 'resume off' : `window ${window / 1024} KiB`;
    progress(`${options.delayMs} ms each way, ${label}: ${size / MiB} MiB each way`);
    const chain = await startWindowChain(far, dir, window, options.delayMs);
    stopAtExit.add(chain);
    try {
      // Warm-up: the connections and the code, not timed.
      await download(chain, far, 4 * MiB, false);
      const up = await timedTransfer(chain, far, size, 'upload');
      const down = await timedTransfer(chain, far, size, 'download');
      rows.push({ window, size, upload: size / up.seconds / 1e6, download: size / down.seconds / 1e6 });
    } finally {
      stopAtExit.delete(chain);
      await chain.stop();
    }
  }
  return rows;
}
