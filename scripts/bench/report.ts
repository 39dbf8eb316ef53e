/**
 * The bench's printed report: the figures of each part as tables, and the
 * aims met or missed. The statistics are harness/statistics.ts's, the
 * console output console.ts's; this file only decides what is shown.
 */
import { mean, median, percentile } from '../harness/statistics';
import { V8_OWN_LIMIT, type BusyResults } from './busy';
import { mb, mib, ms, say, signedMib, table, verdict } from './console';
import { MiB } from './farEnd';
import type { SingleOptions, SingleResults } from './measurements';
import type { ScaleOptions, ScaleResults } from './scale';

/** The aim of issue #11: the tunnel at this fraction of the plain relay's throughput, each way, or better. */
export const THROUGHPUT_AIM = 0.9;
/** Memory counts as flat when a process's peak grows by less than this from the small to the large transfer. */
const FLAT_TOLERANCE = 8 * MiB;

/** Megabytes (10^6 bytes) per second. */
const mbps = (size: number, seconds: number) => size / seconds / 1e6;

/** The single-tunnel figures, as tables and a summary with the aims met or missed. */
export function printSingle(options: SingleOptions, r: SingleResults, elapsed: number): { upload: number; download: number } {
  const { size, integrity, times, cpu, names, rtt, memory } = r;
  say(`Integrity: one ${options.sizeMiB} MiB transfer each way per path (also the warm-up), AES-CTR data`);
  say(table(integrity, ['l', 'l', 'r', 'l']));
  say();

  say(`Throughput: ${options.sizeMiB} MiB per transfer, median of ${options.runs} (MB/s, 1 MB = 10^6 bytes; runs in brackets)`);
  const rate = (key: string) => mbps(size, median(times[key]));
  const runs = (key: string) => times[key].map((s) => mbps(size, s).toFixed(0)).join(' ');
  const ratios: Record<string, number> = {};
  const tput: string[][] = [['direction', 'tunnel MB/s', '', 'plain MB/s', '', 'tunnel/plain']];
  for (const dir of ['upload', 'download']) {
    const t = rate(`tunnel ${dir}`);
    const p = rate(`plain ${dir}`);
    ratios[dir] = t / p;
    tput.push([dir, t.toFixed(0), `(${runs(`tunnel ${dir}`)})`, p.toFixed(0), `(${runs(`plain ${dir}`)})`, (t / p).toFixed(2)]);
  }
  say(table(tput, ['l', 'r', 'l', 'r', 'l', 'r']));
  say();
  say(`CPU seconds (user + system) each relaying process spent per GiB moved, over the timed runs`);
  const gib = (size * options.runs) / (1024 * MiB);
  const cpuRows: string[][] = [['direction', ...names]];
  for (const dir of ['upload', 'download']) cpuRows.push([dir, ...names.map((n) => (cpu[`${dir} ${n}`] / gib).toFixed(2))]);
  say(table(cpuRows, ['l', ...names.map(() => 'r' as const)]));
  say();

  say(`Round trip: ${options.rttBytes}-byte ping-pong to a TCP echo, ${options.rttCount} times after 200 warm-up (ms)`);
  const stat = (kind: string, f: (v: number[]) => number) => f(rtt[kind]);
  const rttRows: string[][] = [['statistic', 'tunnel ms', 'plain ms', 'tunnel/plain']];
  const stats: Array<[string, (v: number[]) => number]> = [
    ['mean', mean],
    ['p50', (v) => percentile(v, 50)],
    ['p99', (v) => percentile(v, 99)],
    ['max', (v) => Math.max(...v)],
  ];
  for (const [name, f] of stats) {
    const t = stat('tunnel', f);
    const p = stat('plain', f);
    rttRows.push([name, t.toFixed(3), p.toFixed(3), (t / p).toFixed(2)]);
  }
  say(table(rttRows, ['l', 'r', 'r', 'r']));
  say();

  say(`Memory: peak RSS (VmHWM) during a download read at ${options.memRateMiB} MiB/s by the client, fresh processes per size`);
  const memRows: string[][] = [['path', 'process', 'transfer', 'read at', 'idle RSS', 'peak RSS', 'peak - idle']];
  for (const r of memory) {
    memRows.push([r.kind, r.proc, `${r.sizeMiB} MiB`, `${r.readMiBs.toFixed(1)} MiB/s`, mib(r.idle), mib(r.peak), signedMib(r.peak - r.idle)]);
  }
  say(table(memRows, ['l', 'l', 'r', 'r', 'r', 'r', 'r']));
  say();

  // Summary.
  say(`Summary (bench took ${elapsed.toFixed(0)} s)`);
  for (const dir of ['upload', 'download']) {
    const r = ratios[dir];
    say(
      `  ${dir.padEnd(8)} throughput: tunnel ${rate(`tunnel ${dir}`).toFixed(0)} MB/s, plain ${rate(`plain ${dir}`).toFixed(0)} MB/s, ` +
        `ratio ${r.toFixed(2)} (aim >= ${THROUGHPUT_AIM.toFixed(2)}): ${verdict(r >= THROUGHPUT_AIM)}`,
    );
  }
  const tMean = mean(rtt.tunnel);
  const pMean = mean(rtt.plain);
  const tP99 = percentile(rtt.tunnel, 99);
  const pP99 = percentile(rtt.plain, 99);
  say(
    `  round trip:          tunnel mean ${tMean.toFixed(3)} ms / p99 ${tP99.toFixed(3)} ms, plain mean ${pMean.toFixed(3)} ms / p99 ${pP99.toFixed(3)} ms, ` +
      `ratio ${(tMean / pMean).toFixed(2)} (mean) ${(tP99 / pP99).toFixed(2)} (p99): no aim set, for information`,
  );
  const [small, large] = options.memSizesMiB;
  for (const kind of ['tunnel', 'plain']) {
    const parts: string[] = [];
    let flat = true;
    for (const name of [...new Set(memory.filter((r) => r.kind === kind).map((r) => r.proc))]) {
      const at = (s: number) => memory.find((r) => r.kind === kind && r.proc === name && r.sizeMiB === s)!;
      const growth = at(large).peak - at(small).peak;
      flat &&= growth < FLAT_TOLERANCE;
      parts.push(`${name} ${mib(at(small).peak)} -> ${mib(at(large).peak)} (${signedMib(growth)})`);
    }
    const aim = `peak grows < ${mib(FLAT_TOLERANCE)} from ${small} to ${large} MiB`;
    say(
      `  memory (${kind}):${' '.repeat(Math.max(1, 8 - kind.length))}${parts.join(', ')}; ` +
        (kind === 'tunnel' ? `flat = ${aim}: ${verdict(flat)}` : `flat: ${flat ? 'yes' : 'no'} (baseline)`),
    );
  }
  return { upload: ratios.upload, download: ratios.download };
}

/** The transfers with idle tunnels open beside them, each chain beside the plain relay. */
export function printBusy(r: BusyResults, elapsed: number): void {
  say(
    `Beside ${r.beside} idle tunnels: the same ${r.size / MiB} MiB transfers, median of ${r.rows[0]?.times.upload.length ?? 0}, ` +
      `with ${r.beside} idle tunnels open on the same processes (MB/s; CPU s per GiB; took ${elapsed.toFixed(0)} s)`,
  );
  const plain = r.rows.find((row) => row.label === 'plain');
  const rows: string[][] = [['path', 'upload', 'download', 'ratio up/down', 'CPU per GiB up', 'CPU per GiB down']];
  for (const row of r.rows) {
    const up = mbps(r.size, median(row.times.upload));
    const down = mbps(r.size, median(row.times.download));
    const ratio = plain
      ? `${(up / mbps(r.size, median(plain.times.upload))).toFixed(2)} / ${(down / mbps(r.size, median(plain.times.download))).toFixed(2)}`
      : '-';
    const cpu = (c: Array<{ name: string; perGiB: number }>) => c.map((p) => p.perGiB.toFixed(2)).join(' + ');
    rows.push([row.label, up.toFixed(0), down.toFixed(0), ratio, cpu(row.cpu.upload), cpu(row.cpu.download)]);
  }
  say(table(rows, ['l', 'r', 'r', 'r', 'r', 'r']));
  say(
    `  V8's own heap limit: both wssh processes started with ${V8_OWN_LIMIT.join(' ')}, ` +
      "which turns off the headroom wssh keeps (src/core/inbound/heapHeadroom.ts); CPU: the client's side process first",
  );
}

/** Aims of issue #11 for the scale part. */
export const SCALE_AIMS = {
  /** Peak RSS of each process during the concurrent transfers. */
  concurrentPeak: 512e6,
  /** RSS of each process with the most idle tunnels (9000). */
  idleRss: 300e6,
  /** p99 open time for the burst of 1000. */
  burstP99Ms: 1000,
};

/** The scale figures, tunnel beside plain, and the aims met or missed. */
export function printScale(options: ScaleOptions, r: ScaleResults, elapsed: number): void {
  say(`Scale (descriptor limit of the bench process: ${r.fdLimit}${r.idleCapped ? `; ${r.idleCapped}` : ''})`);
  say();
  say(`Idle tunnels: RSS of each process with N tunnels open, opened 250 at a time, 3 s after the last (MB = 10^6 bytes)`);
  const idleRows: string[][] = [['path', 'process', 'tunnels', 'at rest', 'RSS', 'per 1000 tunnels']];
  for (const row of r.idle) {
    for (const p of row.procs) {
      idleRows.push([row.kind, p.name, String(row.tunnels), mb(p.rest), mb(p.rss), mb(((p.rss - p.rest) / row.tunnels) * 1000)]);
    }
  }
  say(table(idleRows, ['l', 'l', 'r', 'r', 'r', 'r']));
  say();
  say(`Bursts: N tunnels opened at once; time from connect() to the first byte echoed back through the tunnel`);
  say(`  (server: WebSockets straight at wssh server, as wssh client or clients behind nginx dial it;`);
  say(`  each after a warm-up burst in the same processes, as in a gateway that has been running, but "fresh")`);
  const burstRows: string[][] = [['path', 'tunnels', 'warm-up', 'opened', 'refused', 'p50', 'p99', 'max', 'all open after', 'CPU ms per open']];
  for (const b of r.bursts) {
    burstRows.push([
      b.kind,
      String(b.tunnels),
      b.warmup > 0 ? String(b.warmup) : 'fresh',
      String(b.opened),
      String(b.refused),
      ms(b.p50),
      ms(b.p99),
      ms(b.max),
      `${b.seconds.toFixed(1)} s`,
      b.cpu.map((c) => `${c.name} ${c.msPerOpen.toFixed(2)}`).join(', '),
    ]);
  }
  say(table(burstRows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']));
  for (const b of r.bursts) for (const reason of b.reasons) say(`  ${b.kind} burst of ${b.tunnels}${b.warmup > 0 ? '' : ', fresh'}: ${reason}`);
  say();
  say(`Concurrent: N tunnels opened at once, each echoing its own ${options.concurrentMiB} MiB (sha256 compared); peak RSS (VmHWM) per process`);
  const concRows: string[][] = [['path', 'tunnels', 'byte-exact', 'refused', 'failed', 'wall time', 'peak RSS']];
  for (const c of r.concurrent) {
    concRows.push([
      c.kind,
      String(c.tunnels),
      String(c.exact),
      String(c.refused),
      String(c.failed),
      `${c.seconds.toFixed(1)} s`,
      c.peaks.map((p) => `${p.name} ${mb(p.peak)}`).join(', '),
    ]);
  }
  say(table(concRows, ['l', 'r', 'r', 'r', 'r', 'r', 'l']));
  for (const c of r.concurrent) for (const reason of c.reasons) say(`  ${c.kind} concurrent: ${reason}`);
  say();

  say(`Summary of the scale part (took ${elapsed.toFixed(0)} s; the machine's other load makes these noisy)`);
  const tc = r.concurrent.find((c) => c.kind === 'tunnel');
  if (tc) {
    const ok = tc.exact === tc.tunnels && tc.refused === 0 && tc.peaks.every((p) => p.peak < SCALE_AIMS.concurrentPeak);
    say(
      `  ${tc.tunnels} x ${options.concurrentMiB} MiB: ${tc.exact} byte-exact, ${tc.refused} refused, peak ` +
        `${tc.peaks.map((p) => `${p.name} ${mb(p.peak)}`).join(', ')} (aim: all exact, none refused, each < ${mb(SCALE_AIMS.concurrentPeak)}): ${verdict(ok)}`,
    );
  }
  const most = r.idle.filter((row) => row.kind === 'tunnel').at(-1);
  if (most) {
    const ok = most.procs.every((p) => p.rss < SCALE_AIMS.idleRss);
    say(
      `  ${most.tunnels} idle: ${most.procs.map((p) => `${p.name} ${mb(p.rss)}`).join(', ')} (aim: each < ${mb(SCALE_AIMS.idleRss)} for 9000): ` +
        (most.tunnels >= 9000 ? verdict(ok) : 'not measured at 9000'),
    );
  }
  const b1000 = r.bursts.find((b) => b.kind === 'tunnel' && b.tunnels === 1000 && b.warmup > 0);
  const fresh = r.bursts.find((b) => b.kind === 'tunnel' && b.tunnels === 1000 && b.warmup === 0);
  if (b1000) {
    const ok = b1000.refused === 0 && b1000.p99 < SCALE_AIMS.burstP99Ms;
    say(
      `  burst of 1000: p99 ${ms(b1000.p99)}, ${b1000.refused} refused (aim: p99 < ${SCALE_AIMS.burstP99Ms} ms): ${verdict(ok)}` +
        (fresh ? `; in fresh processes p99 ${ms(fresh.p99)}, ${fresh.refused} refused` : ''),
    );
  }
  for (const b of r.bursts.filter((x) => x.kind === 'tunnel' && x.tunnels !== 1000)) {
    say(`  burst of ${b.tunnels}: p99 ${ms(b.p99)}, ${b.refused} refused (aim: none refused): ${verdict(b.refused === 0)}`);
  }
  for (const b of r.bursts.filter((x) => x.kind === 'server')) {
    say(`  burst of ${b.tunnels} straight at the server: p99 ${ms(b.p99)}, ${b.refused} refused (aim: none refused): ${verdict(b.refused === 0)}`);
  }
}
