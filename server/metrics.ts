/**
 * The server's counters since start, for `GET /metrics` (Prometheus text
 * format, readable with curl) and for a periodic log line: tunnels open and
 * opened, bytes each way, and refusals by HTTP status and reason.
 *
 * Reasons are the refusal table's metric labels (core/tunnel/refusals.ts: `denied`,
 * `unauthorized`, `capacity`, …), never the free text of a refusal, so the
 * number of series stays bounded whatever clients ask for.
 */
import type { BufferBudget } from '../src/core/tunnel/bufferBudget';
import type { TunnelTracker } from '../src/core/tunnel/tunnels';
import { REFUSALS, type RefusalCode } from '../src/core/tunnel/refusals';

/** How often `wssh server` logs the counters by default (`--stats-interval`), in ms: never. */
export const DEFAULT_STATS_INTERVAL_MS = 0;

export interface MetricsSnapshot {
  uptimeSeconds: number;
  tunnelsOpen: number;
  tunnelsTotal: number;
  /** Bytes from SSH clients toward SSH servers, open tunnels included. */
  bytesUp: number;
  /** Bytes from SSH servers toward SSH clients, open tunnels included. */
  bytesDown: number;
  /** Refusals by status and reason. */
  refusals: Array<{ status: number; code: string; count: number }>;
}

/** What /metrics reports of the resumable sessions (ResumeSessions has it). */
export interface ResumeCounters {
  readonly size: number;
  readonly parked: number;
  readonly resumed: number;
  readonly refused: number;
  readonly expired: number;
}

export class ServerMetrics {
  private readonly startedAt = Date.now();
  private opened = 0;
  private closedUp = 0;
  private closedDown = 0;
  /** "status label" → count. */
  private readonly refused = new Map<string, number>();

  constructor(
    private readonly tracker: TunnelTracker,
    /** Times the process found itself out of file descriptors (see core/inbound/descriptors.ts). */
    private readonly descriptorExhaustions: () => number = () => 0,
    /** The relays' buffer budget, for its gauges; none: not reported. */
    private readonly budget?: BufferBudget,
    /** The resumable sessions (server/resumeSessions.ts), for their gauges and counters. */
    private readonly sessions?: () => ResumeCounters,
  ) {
    tracker.on('open', () => this.opened++);
    tracker.on('close', (t) => {
      this.closedUp += t.up;
      this.closedDown += t.down;
    });
  }

  /** Counts a refusal; the server calls it for every status it answers instead of a tunnel. */
  countRefusal(code: RefusalCode): void {
    const { status, metric } = REFUSALS[code];
    const key = `${status} ${metric}`;
    this.refused.set(key, (this.refused.get(key) ?? 0) + 1);
  }

  snapshot(): MetricsSnapshot {
    let bytesUp = this.closedUp;
    let bytesDown = this.closedDown;
    for (const t of this.tracker.list()) {
      bytesUp += t.up;
      bytesDown += t.down;
    }
    const refusals = [...this.refused]
      .map(([key, count]) => {
        const [status, code] = key.split(' ');
        return { status: Number(status), code, count };
      })
      .sort((a, b) => a.status - b.status || a.code.localeCompare(b.code));
    return {
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      tunnelsOpen: this.tracker.size,
      tunnelsTotal: this.opened,
      bytesUp,
      bytesDown,
      refusals,
    };
  }

  /** The Prometheus text exposition format (version 0.0.4). */
  prometheus(): string {
    const s = this.snapshot();
    const lines = [
      '# HELP wssh_tunnels_open Tunnels open now.',
      '# TYPE wssh_tunnels_open gauge',
      `wssh_tunnels_open ${s.tunnelsOpen}`,
      '# HELP wssh_tunnels_total Tunnels opened since the server started.',
      '# TYPE wssh_tunnels_total counter',
      `wssh_tunnels_total ${s.tunnelsTotal}`,
      '# HELP wssh_bytes_total Bytes relayed: up is SSH client to SSH server, down the other way.',
      '# TYPE wssh_bytes_total counter',
      `wssh_bytes_total{direction="up"} ${s.bytesUp}`,
      `wssh_bytes_total{direction="down"} ${s.bytesDown}`,
      '# HELP wssh_refusals_total Tunnel requests answered with an HTTP status instead of a tunnel.',
      '# TYPE wssh_refusals_total counter',
      ...s.refusals.map((r) => `wssh_refusals_total{status="${r.status}",reason="${r.code}"} ${r.count}`),
      ...(this.budget
        ? [
            '# HELP wssh_buffered_bytes Bytes the tunnels hold that have not reached the kernel yet (send and write buffers).',
            '# TYPE wssh_buffered_bytes gauge',
            `wssh_buffered_bytes ${this.budget.buffered}`,
            '# HELP wssh_buffer_budget_bytes The limit on wssh_buffered_bytes (--max-buffered).',
            '# TYPE wssh_buffer_budget_bytes gauge',
            `wssh_buffer_budget_bytes ${this.budget.limit}`,
            '# HELP wssh_buffer_pauses_total Times a tunnel paused reading because the budget was spent.',
            '# TYPE wssh_buffer_pauses_total counter',
            `wssh_buffer_pauses_total ${this.budget.pausedByBudget}`,
          ]
        : []),
      ...this.resumeLines(),
      '# HELP wssh_descriptor_exhaustion_total Times the server found itself out of file descriptors (EMFILE, ENFILE), at a connect or an accept.',
      '# TYPE wssh_descriptor_exhaustion_total counter',
      `wssh_descriptor_exhaustion_total ${this.descriptorExhaustions()}`,
      '# HELP wssh_uptime_seconds Seconds since the server started.',
      '# TYPE wssh_uptime_seconds gauge',
      `wssh_uptime_seconds ${s.uptimeSeconds}`,
    ];
    return lines.join('\n') + '\n';
  }

  private resumeLines(): string[] {
    const r = this.sessions?.();
    if (!r) return [];
    return [
      '# HELP wssh_resumable_sessions Resumable tunnels held now, open or parked.',
      '# TYPE wssh_resumable_sessions gauge',
      `wssh_resumable_sessions ${r.size}`,
      '# HELP wssh_parked_sessions Resumable tunnels whose WebSocket broke, waiting for a resume.',
      '# TYPE wssh_parked_sessions gauge',
      `wssh_parked_sessions ${r.parked}`,
      '# HELP wssh_resumes_total Tunnels resumed after a break.',
      '# TYPE wssh_resumes_total counter',
      `wssh_resumes_total ${r.resumed}`,
      '# HELP wssh_resumes_refused_total Resumes refused: unknown session, wrong token or another user (also in wssh_refusals_total).',
      '# TYPE wssh_resumes_refused_total counter',
      `wssh_resumes_refused_total ${r.refused}`,
      '# HELP wssh_resume_expired_total Parked tunnels closed because no resume came within the resume window.',
      '# TYPE wssh_resume_expired_total counter',
      `wssh_resume_expired_total ${r.expired}`,
    ];
  }

  /** One log line: `stats open=2 total=40 up=… down=… refused=3 (401 unauthorized=2, 403 denied=1)`. */
  logLine(): string {
    const s = this.snapshot();
    const refusedTotal = s.refusals.reduce((sum, r) => sum + r.count, 0);
    const byReason = s.refusals.map((r) => `${r.status} ${r.code}=${r.count}`).join(', ');
    return (
      `stats open=${s.tunnelsOpen} total=${s.tunnelsTotal} up=${s.bytesUp} down=${s.bytesDown} ` + `refused=${refusedTotal}${byReason ? ` (${byReason})` : ''}`
    );
  }
}
