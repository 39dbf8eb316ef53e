/**
 * The tunnel chain of the resume part: the bench's client, `wssh connect`,
 * a Cutter (scripts/harness/cutter.ts, in a process of its own: cutterProcess.ts)
 * that breaks the way as a network does, optionally nginx (TLS) behind it, then `wssh server`
 * and the far end:
 *
 *   loopback: client -> wssh connect -> Cutter -> wssh server -> far end
 *   nginx:    client -> wssh connect -> Cutter -> nginx (TLS) -> wssh server -> far end
 *
 * The Cutter sits where a user's network breaks: between the local proxy and
 * whatever it dials first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startNginx, type Nginx } from '../harness/nginx';
import { which } from '../harness/programs';
import { makeCertificates } from '../harness/tls';
import { openTunnel } from '../harness/connectClient';
import { startConnectProcess } from '../harness/wsshProcesses';
import { HOST, proc, startServerAlone, type Chain, type Proc } from './chains';
import { CutterProcess } from './cutterProcess';

export type Way = 'loopback' | 'nginx';

export interface CutChain extends Chain {
  cutter: CutterProcess;
  proxy: Proc;
  server: Proc;
  /** The server's /metrics, as name → value (labelled series left out). */
  metrics(): Promise<Record<string, number>>;
}

export interface CutChainOptions {
  /** Offer resume (`wssh connect` without `--no-resume`). */
  resume: boolean;
  way?: Way;
  /** More arguments for `wssh server`. */
  serverArgs?: string[];
}

/** Why the nginx way cannot run here, or undefined when it can. */
export function nginxMissing(): string | undefined {
  const missing = ['nginx', 'openssl'].filter((p) => !which(p));
  return missing.length ? `${missing.join(' and ')} not found (apt-get install ${missing.join(' ')})` : undefined;
}

/** Parses Prometheus text: the unlabelled series, name → value. */
export function parseMetrics(text: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+) (\S+)$/.exec(line);
    if (match) values[match[1]] = Number(match[2]);
  }
  return values;
}

export async function startCutChain(farPort: number, dir: string, options: CutChainOptions): Promise<CutChain> {
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const alone = await startServerAlone(farPort, dir, { serverArgs: options.serverArgs });
    stops.push(() => alone.stop());
    let endpoint: (port: number) => string = (port) => `ws://${HOST}:${port}/ssh`;
    let firstHop = alone.proc.port;
    const connectArgs = ['--quiet', '--no-proxy', ...(options.resume ? [] : ['--no-resume'])];
    if (options.way === 'nginx') {
      const nginxDir = fs.mkdtempSync(path.join(dir, 'nginx-'));
      const certs = await makeCertificates(nginxDir);
      const nginx: Nginx = await startNginx({
        upstreamPort: alone.proc.port,
        tls: { cert: certs.serverCert, key: certs.serverKey },
        dir: path.join(nginxDir, 'prefix'),
        accessLog: false,
      });
      stops.push(() => nginx.stop());
      firstHop = nginx.port;
      endpoint = (port) => `wss://localhost:${port}/ssh`;
      connectArgs.push('--ca', certs.caCert);
    }
    const cutter = await CutterProcess.start(firstHop);
    stops.push(() => cutter.close());
    const proxy = proc(await startConnectProcess(endpoint(cutter.port), connectArgs, options.resume ? 'wssh connect' : 'wssh connect --no-resume'));
    stops.push(() => proxy.stop());
    const metricsUrl = `http://${HOST}:${alone.proc.port}/metrics`;
    return {
      kind: 'tunnel',
      procs: [proxy, alone.proc],
      proxy,
      server: alone.proc,
      cutter,
      open: () => openTunnel(proxy.port, `${HOST}:${farPort}`, { timeoutMs: 300_000 }),
      metrics: async () => parseMetrics(await (await fetch(metricsUrl)).text()),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
