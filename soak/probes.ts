// What the soak reads off the running system once a minute: the resident memory of each of
// Herald's processes (the primary and the workers it forks, found in /proc by parent pid and
// named by the role the primary gives them), and the event-loop delay Herald's own /metrics
// reports (prom-client resets its event-loop histogram at each scrape, so a scrape a minute
// gives that minute's figure).
import { readFileSync } from 'node:fs';
import { readAllProcesses } from '../bench/lib/proc-cpu.js';

/** The environment variable app/cluster.ts gives each worker (http or dispatcher). */
const ROLE_VARIABLE = 'HERALD_PROCESS_ROLE';

function roleOf(pid: number): string | undefined {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return environ.find((v) => v.startsWith(`${ROLE_VARIABLE}=`))?.slice(ROLE_VARIABLE.length + 1);
  } catch {
    return undefined;
  }
}

export function rssMbOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * Herald's processes under `primaryPid`, labelled `primary`, `dispatcher`, `http-1`, `http-2`…
 * (HTTP workers numbered by pid order, so a label stays with its process while it lives). A
 * worker the primary replaced shows as a new pid: the caller counts those as restarts.
 */
export function heraldProcesses(primaryPid: number): Map<string, number> {
  const all = readAllProcesses();
  const children = [...all.values()].filter((p) => p.ppid === primaryPid).map((p) => p.pid).sort((a, b) => a - b);
  const out = new Map<string, number>([['primary', primaryPid]]);
  let http = 0;
  for (const pid of children) {
    const role = roleOf(pid);
    if (role === 'http') out.set(`http-${++http}`, pid);
    else if (role === 'dispatcher') out.set('dispatcher', pid);
  }
  return out;
}

/** One sample of a Prometheus text exposition (no labels): the value of `name`, or null. */
export function metricValue(text: string, name: string): number | null {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([^\\s]+)`, 'm').exec(text);
  const value = match ? Number(match[1]) : NaN;
  return Number.isFinite(value) ? value : null;
}

/** Event-loop delay over the last minute from GET /metrics: p99 (averaged over Herald's processes) and max (of all), ms. */
export async function eventLoopDelay(baseUrl: string): Promise<{ p99Ms: number | null; maxMs: number | null }> {
  try {
    const text = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const p99 = metricValue(text, 'nodejs_eventloop_lag_p99_seconds');
    const max = metricValue(text, 'nodejs_eventloop_lag_max_seconds');
    return { p99Ms: p99 === null ? null : p99 * 1000, maxMs: max === null ? null : max * 1000 };
  } catch {
    return { p99Ms: null, maxMs: null };
  }
}
