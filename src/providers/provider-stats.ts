// Recent submission outcomes of one provider, for the `providers` query: success rate and
// latency percentiles over a sliding time window, bounded in memory (a ring of the last
// `capacity` submissions). Per instance: each Herald reports what it saw itself.

export interface Outcome {
  at: number;
  latencyMs: number;
  /** The provider answered (accepted or refused the message itself); false for errors and timeouts. */
  ok: boolean;
}

export interface StatsSnapshot {
  submissions: number;
  failures: number;
  /** ok / submissions, null when there were none in the window. */
  successRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
}

export class ProviderStats {
  private readonly ring: Outcome[] = [];
  private next = 0;

  constructor(
    private readonly windowMs = 5 * 60_000,
    private readonly capacity = 2_000,
    private readonly now: () => number = Date.now,
  ) {}

  record(latencyMs: number, ok: boolean): void {
    const outcome = { at: this.now(), latencyMs, ok };
    if (this.ring.length < this.capacity) this.ring.push(outcome);
    else this.ring[this.next] = outcome;
    this.next = (this.next + 1) % this.capacity;
  }

  snapshot(): StatsSnapshot {
    const since = this.now() - this.windowMs;
    const recent = this.ring.filter((o) => o.at >= since);
    const latencies = recent.map((o) => o.latencyMs).sort((a, b) => a - b);
    const ok = recent.filter((o) => o.ok).length;
    return {
      submissions: recent.length,
      failures: recent.length - ok,
      successRate: recent.length ? ok / recent.length : null,
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP95Ms: percentile(latencies, 0.95),
      latencyP99Ms: percentile(latencies, 0.99),
    };
  }

  get windowSeconds(): number {
    return Math.round(this.windowMs / 1000);
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}
