/**
 * The single-tunnel transfers again, with `beside` idle tunnels open on the
 * same processes, as on a gateway: a few hundred open tunnels put the wssh
 * processes' live heap at 8-15 MB, where V8's default old-generation limit
 * leaves less room than the buffers a tunnel allocates between two young
 * collections, and it runs a full collection every few MB relayed. wssh
 * keeps room under that limit (src/core/inbound/heapHeadroom.ts); this part runs the
 * tunnel both ways, as the CLI starts it and with V8's own limit (the
 * `--heap-growing-percent=0` that turns the headroom off), beside the plain
 * relay with the same idle connections.
 */
import type net from 'node:net';
import { startPlain, startTunnel, type Chain } from './chains';
import { FarEnd, MiB } from './farEnd';
import { download, stopAtExit, timedTransfer, upload } from './measurements';
import { progress } from './console';
import { openEcho } from './scale';

export interface BusyRow {
  /** What ran: "tunnel", "tunnel, V8's own heap limit", "plain". */
  label: string;
  /** Seconds per timed transfer, by direction. */
  times: { upload: number[]; download: number[] };
  /** CPU seconds per GiB per process, by direction. */
  cpu: { upload: Array<{ name: string; perGiB: number }>; download: Array<{ name: string; perGiB: number }> };
}

export interface BusyResults {
  beside: number;
  size: number;
  rows: BusyRow[];
}

/** The node flag that leaves V8's heap limit alone (heapHeadroom.ts does nothing when given one). */
export const V8_OWN_LIMIT = ['--heap-growing-percent=0'];

async function measure(label: string, chain: Chain, far: FarEnd, beside: number, size: number, runs: number): Promise<BusyRow> {
  progress(`${label}: ${beside} idle tunnels open, then transfers`);
  const idle: net.Socket[] = [];
  try {
    while (idle.length < beside) {
      const n = Math.min(50, beside - idle.length);
      for (const o of await Promise.all(Array.from({ length: n }, () => openEcho(chain)))) idle.push(o.socket);
    }
    await upload(chain, far, size, false);
    await download(chain, far, size, false);
    const row: BusyRow = { label, times: { upload: [], download: [] }, cpu: { upload: [], download: [] } };
    const spent = { upload: chain.procs.map(() => 0), download: chain.procs.map(() => 0) };
    for (let run = 0; run < runs; run++) {
      for (const direction of ['upload', 'download'] as const) {
        const t = await timedTransfer(chain, far, size, direction);
        t.cpu.forEach((seconds, i) => (spent[direction][i] += seconds));
        row.times[direction].push(t.seconds);
      }
    }
    const gib = (size * runs) / (1024 * MiB);
    for (const direction of ['upload', 'download'] as const) {
      row.cpu[direction] = chain.procs.map((p, i) => ({ name: p.name, perGiB: spent[direction][i] / gib }));
    }
    return row;
  } finally {
    for (const s of idle) s.destroy();
  }
}

export async function measureBusy(far: FarEnd, dir: string, beside: number, sizeMiB: number, runs: number): Promise<BusyResults> {
  const size = Math.round(sizeMiB * MiB);
  const noLimits = ['--max-tunnels', '0', '--max-tunnels-per-client', '0'];
  const rows: BusyRow[] = [];
  const kinds: Array<[string, () => Promise<Chain>]> = [
    ['tunnel', () => startTunnel(far.port, dir, { serverArgs: noLimits })],
    [`tunnel, V8's own heap limit`, () => startTunnel(far.port, dir, { serverArgs: noLimits, nodeFlags: V8_OWN_LIMIT })],
    ['plain', () => startPlain(far.port)],
  ];
  for (const [label, start] of kinds) {
    const chain = await start();
    stopAtExit.add(chain);
    try {
      rows.push(await measure(label, chain, far, beside, size, runs));
    } finally {
      stopAtExit.delete(chain);
      await chain.stop();
    }
  }
  return { beside, size, rows };
}
