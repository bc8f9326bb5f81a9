// CPU time of processes from Linux's /proc, for the benchmarks' "CPU per message" figures. A
// process is read from /proc/<pid>/stat (user + system clock ticks, parent pid); a meter samples
// every process on the machine once a second and sums the CPU used since it started by group
// (a Herald instance's process tree, PostgreSQL's backends of one database, ...). Processes
// alive when the meter starts count from their CPU at that moment, processes born later from 0;
// one that exits between two samples loses what it used after the last one (at most a second).
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ: 100 on every Linux the bench runs on (getconf CLK_TCK)

export interface ProcStat {
  pid: number;
  ppid: number;
  /** User + system CPU seconds used so far. */
  cpuSeconds: number;
}

/** One process's /proc/<pid>/stat, or null when it is gone (or /proc does not exist). */
export function readProcStat(pid: number): ProcStat | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ..." where comm may hold spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // From the state (field 3 of proc(5)): ppid is field 4, utime 14, stime 15.
  return { pid, ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
}

/** User + system CPU seconds a process has used so far; null when it is gone. */
export function cpuSecondsOf(pid: number | undefined): number | null {
  return pid === undefined ? null : (readProcStat(pid)?.cpuSeconds ?? null);
}

/** The command line as `ps` shows it (PostgreSQL rewrites its own: "postgres: 15/main: user db host idle"). */
export function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Every process on the machine, by pid. */
export function readAllProcesses(): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return all;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat) all.set(stat.pid, stat);
  }
  return all;
}

/** Whether `pid` is `ancestor` or one of its descendants, in the processes of `all`. */
export function descendsFrom(pid: number, ancestor: number, all: Map<number, ProcStat>): boolean {
  for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = all.get(p)?.ppid, hops++) {
    if (p === ancestor) return true;
  }
  return false;
}

/**
 * Names the group a process belongs to; undefined for one that is never counted, null for one to
 * ask about again at the next sample (a PostgreSQL backend shows its database in its command line
 * only once it has authenticated). Called with every process on the machine at that moment.
 */
export type Classify = (process: ProcStat, all: Map<number, ProcStat>) => string | null | undefined;

export interface CpuMeter {
  /** Stops sampling; CPU seconds used by each group since the meter started, and how many processes it had. */
  stop(): Map<string, { seconds: number; processes: number }>;
}

export function startCpuMeter(classify: Classify, intervalMs = 1_000): CpuMeter {
  const seen = new Map<number, { group: string | null; from: number; last: number }>();
  const ignored = new Set<number>();
  const sample = (first: boolean) => {
    const all = readAllProcesses();
    for (const [pid, stat] of all) {
      if (ignored.has(pid)) continue;
      let entry = seen.get(pid);
      if (!entry) seen.set(pid, (entry = { group: null, from: first ? stat.cpuSeconds : 0, last: stat.cpuSeconds }));
      entry.last = stat.cpuSeconds;
      if (entry.group !== null) continue;
      const group = classify(stat, all);
      if (group === undefined) {
        ignored.add(pid);
        seen.delete(pid);
      } else entry.group = group;
    }
  };
  sample(true);
  const timer = setInterval(() => sample(false), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample(false);
      const used = new Map<string, { seconds: number; processes: number }>();
      for (const { group, from, last } of seen.values()) {
        if (group === null) continue;
        const sum = used.get(group) ?? { seconds: 0, processes: 0 };
        used.set(group, { seconds: sum.seconds + (last - from), processes: sum.processes + 1 });
      }
      return used;
    },
  };
}
