// The resources a measured window of a Herald run used, for "per message" figures: CPU of every
// Herald process (each instance's whole process tree, so that forked children count), of
// PostgreSQL's processes, and of the bench process itself (load generator and subscriber), and
// the WAL the server wrote. Read from /proc and PostgreSQL; see proc-cpu.ts and postgres-usage.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { descendsFrom, readCmdline, startCpuMeter, type Classify } from './proc-cpu.js';
import { classifyPostgres, localPostmaster, walBytesSince, walPosition } from './postgres-usage.js';

export interface Usage {
  seconds: number;
  /**
   * CPU seconds by Herald process role: "instance 1 primary" (the started process), "instance 1
   * http ×2", "instance 1 dispatcher" (forked processes by the role Herald gave them), other
   * descendants by their command (see childRole).
   */
  herald: Map<string, number>;
  heraldTotal: number;
  /** CPU seconds of PostgreSQL's processes (see classifyPostgres); null when the server is not on this machine. */
  postgres: { backends: number; server: number; otherDatabases: number } | null;
  /** CPU seconds of this bench process (all its threads). */
  bench: number;
  /** WAL the whole server wrote (other databases' writes included). */
  walBytes: number;
}

export interface UsageWindow {
  stop(): Promise<Usage>;
}

/** The environment variable in which Herald's primary tells each forked process its role (src/app/cluster.ts). */
const ROLE_VARIABLE = 'HERALD_PROCESS_ROLE';

/**
 * How a Herald descendant is named in the figures: its role when Herald set one in its
 * environment ("http", "dispatcher"), "workers" when it runs the started process's command
 * without one, else its script and arguments.
 */
function childRole(pid: number, root: number): string {
  let environ = '';
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    // Gone, or not ours to read: named by its command line.
  }
  const role = environ.split('\0').find((v) => v.startsWith(`${ROLE_VARIABLE}=`));
  if (role) return role.slice(ROLE_VARIABLE.length + 1);
  const cmdline = readCmdline(pid);
  if (cmdline === readCmdline(root)) return 'workers';
  const args = cmdline.split(' ').slice(1).filter((a) => !a.startsWith('-'));
  return `child ${args.length ? [path.basename(args[0]!), ...args.slice(1)].join(' ') : 'process'}`;
}

export async function startUsage(options: { adminUrl: string; database: string; herald: { label: string; pid: number }[] }): Promise<UsageWindow> {
  const postmaster = await localPostmaster(options.adminUrl).catch(() => null);
  const postgres = postmaster === null ? undefined : classifyPostgres(postmaster, options.database);
  const classify: Classify = (process, all) => {
    for (const { label, pid } of options.herald) {
      if (process.pid === pid) return `herald:${label} primary`;
      if (descendsFrom(process.pid, pid, all)) return `herald:${label} ${childRole(process.pid, pid)}`;
    }
    const group = postgres?.(process, all);
    return typeof group === 'string' ? `postgres:${group}` : group;
  };
  const wal = await walPosition(options.adminUrl);
  const started = performance.now();
  const benchBefore = process.cpuUsage();
  const meter = startCpuMeter(classify);
  return {
    async stop() {
      const used = meter.stop();
      const bench = process.cpuUsage(benchBefore);
      const seconds = (performance.now() - started) / 1000;
      const walBytes = await walBytesSince(options.adminUrl, wal);
      const herald = new Map<string, number>();
      for (const [group, { seconds: s, processes }] of used) {
        if (group.startsWith('herald:')) herald.set(`${group.slice('herald:'.length)}${processes > 1 ? ` ×${processes}` : ''}`, s);
      }
      const pgGroup = (name: string) => used.get(`postgres:${name}`)?.seconds ?? 0;
      return {
        seconds,
        herald,
        heraldTotal: [...herald.values()].reduce((a, b) => a + b, 0),
        postgres: postgres ? { backends: pgGroup('backends'), server: pgGroup('server'), otherDatabases: pgGroup('other databases') } : null,
        bench: (bench.user + bench.system) / 1e6,
        walBytes,
      };
    },
  };
}
