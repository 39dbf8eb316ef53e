/**
 * The resume part's printed report: each figure beside the same run with
 * resume off, and the aims of issue #20 met or missed.
 */
import { median, percentile } from '../harness/statistics';
import { mb, mib, say, table, verdict } from './console';
import { MiB } from './farEnd';
import type { ResumeOptions, ResumeResults } from './resume';

/** Issue #20: throughput with resume on at least this fraction of resume off's, each way. */
export const RESUME_THROUGHPUT_AIM = 0.97;

const mbps = (size: number, seconds: number) => size / seconds / 1e6;
/** Milliseconds with a tenth: a resume on loopback takes a few. */
const ms1 = (v: number) => `${v.toFixed(1)} ms`;
const kib = (bytes: number) => (bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / 1024} KiB`);

/** Per direction: throughput on / off, and CPU per GiB (both processes) on / off. */
type Ratios = Record<string, { rate: number; cpu: number }>;

function printThroughput(options: ResumeOptions, r: ResumeResults): Ratios {
  say(`Throughput: one tunnel, ${options.sizeMiB} MiB per transfer, median of ${options.runs}, resume on and off interleaved (MB/s; runs in brackets)`);
  const [on, off] = r.throughput;
  const ratios: Ratios = {};
  const rows: string[][] = [['direction', 'resume on', '', 'resume off', '', 'on/off', 'CPU s/GiB on (connect + server)', 'off', 'CPU on/off']];
  for (const dir of ['upload', 'download'] as const) {
    const rate = (t: number[]) => mbps(r.size, median(t));
    const runs = (t: number[]) => `(${t.map((s) => mbps(r.size, s).toFixed(0)).join(' ')})`;
    const sum = (c: number[]) => c.reduce((a, b) => a + b, 0);
    ratios[dir] = { rate: rate(on.times[dir]) / rate(off.times[dir]), cpu: sum(on.cpu[dir]) / sum(off.cpu[dir]) };
    const cpu = (c: number[]) => c.map((s) => s.toFixed(2)).join(' + ');
    rows.push([
      dir,
      rate(on.times[dir]).toFixed(0),
      runs(on.times[dir]),
      rate(off.times[dir]).toFixed(0),
      runs(off.times[dir]),
      ratios[dir].rate.toFixed(3),
      cpu(on.cpu[dir]),
      cpu(off.cpu[dir]),
      ratios[dir].cpu.toFixed(3),
    ]);
  }
  say(table(rows, ['l', 'r', 'l', 'r', 'l', 'r', 'r', 'r', 'r']));
  say(`  (on a busy machine the runs spread widely; the CPU each process spent per GiB is the steadier figure of the acks' cost)`);
  say();
  return ratios;
}

function printCutTimes(options: ResumeOptions, r: ResumeResults): void {
  say(`Time from a cut to data flowing again: ${options.cuts} cuts (both connections reset), each after a pace of 10-50 ms, after 5 warm-up cuts`);
  say(`  resume on: a 64-byte probe written at the cut, until its echo is back; resume off: the tunnel ends, a new one until its first echo`);
  const rows: string[][] = [['way', 'resume on p50', 'p99', 'max', 'resume off p50', 'p99', 'max', 'resumes counted']];
  for (const c of r.cutTimes) {
    const s = (v: number[], p: number) => ms1(percentile(v, p));
    const max = (v: number[]) => ms1(Math.max(...v));
    const way = c.way === 'nginx' ? 'nginx (TLS)' : 'loopback';
    rows.push([way, s(c.on, 50), s(c.on, 99), max(c.on), s(c.off, 50), s(c.off, 99), max(c.off), `${c.resumes} of ${c.on.length + 5} cuts`]);
  }
  say(table(rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
  if (r.nginxSkipped) say(`  nginx left out: ${r.nginxSkipped}`);
  say(`  (resume off leaves the SSH session lost: the new tunnel is only where a new SSH handshake and login would start)`);
  say();
}

function printTransfers(options: ResumeOptions, r: ResumeResults): void {
  say(`A ${options.sizeMiB} MiB transfer cut ${options.transferCuts} times at random points, each way (sha256 compared)`);
  const [on] = r.throughput;
  const rows: string[][] = [
    ['direction', 'cuts', 'resumes', 'sha256', 'MB/s (uncut, resume on)', 'replayed by the client', 'by the server', 'resume off, cut once'],
  ];
  for (const t of r.transfers) {
    rows.push([
      t.direction,
      String(t.cuts),
      String(t.resumes),
      `${t.sha256.slice(0, 12)}…  exact`,
      `${mbps(r.size, t.seconds).toFixed(0)} (${mbps(r.size, median(on.times[t.direction])).toFixed(0)})`,
      `~${mib(t.replayedByClient)}`,
      mib(t.replayedByServer),
      `ends at ${mib(t.offDelivered)}`,
    ]);
  }
  say(table(rows, ['l', 'r', 'r', 'l', 'r', 'r', 'r', 'l']));
  say(`  (the client's count is from its log lines, which round; the server's is exact; a cut in a resume's handshake makes one resume of two cuts)`);
  say();
}

function printParked(r: ResumeResults): void {
  const n = r.parked[0]?.tunnels ?? 0;
  say(`Parked: ${n} idle tunnels open, then the way blocked and every connection cut; RSS of each process (MB = 10^6 bytes), 3 s after each step`);
  const rows: string[][] = [['resume', 'process', 'at rest', `${n} open`, 'after the cut', 'after - at rest, per 1000']];
  for (const row of r.parked) {
    for (const p of row.procs) {
      rows.push([
        row.resume ? `on (${row.parked} parked)` : 'off (closed)',
        p.name,
        mb(p.rest),
        mb(p.open),
        mb(p.afterCut),
        mb(((p.afterCut - p.rest) / row.tunnels) * 1000),
      ]);
    }
  }
  say(table(rows, ['l', 'l', 'r', 'r', 'r', 'r']));
  const on = r.parked.find((row) => row.resume);
  if (on) {
    say(
      `  the way opened again: ${on.resumed} resumed within ${on.resumeSeconds.toFixed(1)} s ` +
        `(the clients' backoff, up to 10 s, sets it), ${on.exact} then echoed 1 KiB exactly`,
    );
  }
  say();
}

function printBusy(r: ResumeResults): void {
  const first = r.busy[0];
  if (!first) return;
  say(
    `Busy: ${first.tunnels} tunnels each echoing ${first.size / MiB} MiB (sha256 compared), every connection cut once halfway through; fresh processes per row`,
  );
  const rows: string[][] = [['resume', 'cut', 'open at the cut', 'byte-exact', 'failed', 'resumes', 'wall time', 'peak RSS']];
  for (const b of r.busy) {
    rows.push([
      b.resume ? 'on' : 'off',
      b.cut ? 'once' : 'none',
      b.cut ? String(b.openAtCut) : '-',
      String(b.exact),
      String(b.failed),
      String(b.resumes),
      `${b.seconds.toFixed(1)} s`,
      b.peaks.map((p) => `${p.name} ${mb(p.peak)}`).join(', '),
    ]);
  }
  say(table(rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l']));
  for (const b of r.busy) for (const reason of b.reasons) say(`  resume ${b.resume ? 'on' : 'off'}${b.cut ? ', cut' : ''}: ${reason}`);
  say();
}

function printWindows(options: ResumeOptions, r: ResumeResults): void {
  const rtt = (2 * options.delayMs) / 1000;
  say(`Window: one tunnel over a link with ${options.delayMs} ms each way (a delaying relay in the bench process), one transfer each way after a warm-up`);
  const off = r.windows.find((w) => w.window === undefined);
  const rows: string[][] = [['resume window', 'transfer', 'upload MB/s', 'download MB/s', 'window / round trip', 'of resume off (up / down)']];
  for (const w of r.windows) {
    const ceiling = w.window === undefined ? '-' : `${(w.window / rtt / 1e6).toFixed(1)} MB/s`;
    const ratio = off && w.window !== undefined ? `${(w.upload / off.upload).toFixed(2)} / ${(w.download / off.download).toFixed(2)}` : '-';
    rows.push([w.window === undefined ? 'off' : kib(w.window), `${w.size / MiB} MiB`, w.upload.toFixed(1), w.download.toFixed(1), ceiling, ratio]);
  }
  say(table(rows, ['l', 'r', 'r', 'r', 'r', 'r']));
  say();
}

export function printResume(options: ResumeOptions, r: ResumeResults, elapsed: number): void {
  say(`Resume (issue #20): each figure beside the same run with resume off (wssh connect --no-resume)`);
  say();
  const ratios = printThroughput(options, r);
  printCutTimes(options, r);
  printTransfers(options, r);
  printParked(r);
  printBusy(r);
  printWindows(options, r);

  say(`Summary of the resume part (took ${elapsed.toFixed(0)} s)`);
  for (const dir of ['upload', 'download']) {
    say(
      `  ${dir.padEnd(8)} throughput, resume on / off: ${ratios[dir].rate.toFixed(3)} ` +
        `(aim >= ${RESUME_THROUGHPUT_AIM}): ${verdict(ratios[dir].rate >= RESUME_THROUGHPUT_AIM)}; CPU per GiB on / off ${ratios[dir].cpu.toFixed(3)}`,
    );
  }
  for (const c of r.cutTimes) {
    say(
      `  cut to data flowing again (${c.way}): p50 ${ms1(percentile(c.on, 50))}, p99 ${ms1(percentile(c.on, 99))}; ` +
        `resume off: a new tunnel in p50 ${ms1(percentile(c.off, 50))}, the session lost`,
    );
  }
  const exact = r.transfers.every((t) => t.cuts === options.transferCuts);
  say(`  ${options.sizeMiB} MiB cut ${options.transferCuts} times each way: ${exact ? 'byte-exact both ways' : 'NOT every cut made'}`);
  const busy = r.busy.find((b) => b.resume && b.cut);
  if (busy) {
    const ok = busy.exact === busy.tunnels && busy.failed === 0;
    say(`  ${busy.tunnels} busy tunnels cut once: ${busy.exact} byte-exact, ${busy.failed} failed (aim: all resume, all exact): ${verdict(ok)}`);
  }
  const parked = r.parked.find((p) => p.resume);
  if (parked) {
    const ok = parked.parked === parked.tunnels && parked.exact === parked.tunnels;
    say(`  ${parked.tunnels} parked: ${parked.parked} parked, ${parked.exact} resumed and exact (aim: all): ${verdict(ok)}`);
  }
}
