// Cold start of the embedded default, as a user starts it: `node scripts/start.mjs` (what
// `npm start` runs: dist/herald.js, one bundle of src/ and its packages, rebuilt first if older) with a
// fresh empty DATA_DIR in a temp dir, PORT=0 and nothing else (no DATABASE_URL: PGlite, unpacked
// from the template `npm ci` made, migrations included; the first ADMIN key created). Timed from spawn to the first
// `GET /readyz` answering 200 (polled every 20 ms once the process prints its URL); then 3 s idle
// and the process's RSS is read. A second start on the same (now migrated) DATA_DIR is the "warm
// start" row. Baseline in the same run: `node -e` of a bare node:http server to its first 200
// (Node's own fixed start-up on this machine). Runs: 3 (quick: 1), medians.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ratioOf, type BenchOptions, type BenchRow, type Scenario } from '../harness.js';
import { repoRoot } from '../lib/processes.js';

const NAME = 'cold-start';
const POLL_MS = 20;
const IDLE_MS = 3_000;
const START_TIMEOUT_MS = 60_000;
const TARGET_S = 3;
const TARGET_RSS_MB = 200;
const BASELINE_NAME = 'node -e http server';
const BARE_SERVER = `require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });`;

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

interface Start {
  /** Seconds from spawn to the first 200 from the ready URL. */
  seconds: number;
  /** RSS after IDLE_MS idle, in MB. */
  rssMb: number;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const scenario: Scenario = {
  name: NAME,
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const runs = options.quick ? 1 : 3;
    const cold: Start[] = [];
    const warm: Start[] = [];
    const bare: Start[] = [];
    const bareTsx: Start[] = [];
    const dirs: string[] = [];
    let failure: string | undefined;
    try {
      for (let run = 0; run < runs; run++) {
        const dataDir = await mkdtemp(path.join(os.tmpdir(), 'herald-bench-cold-'));
        dirs.push(dataDir);
        const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), DATA_DIR: dataDir, PORT: '0' };
        const heraldArgs = ['scripts/start.mjs'];
        const heraldReady = /Herald listening on (http:\/\/[^/\s]+)/;
        cold.push(await timeStart(heraldArgs, env, heraldReady, '/readyz'));
        warm.push(await timeStart(heraldArgs, env, heraldReady, '/readyz'));
        bare.push(await timeStart(['-e', BARE_SERVER], { PATH: env.PATH, HOME: env.HOME }, /listening on (http:\/\/\S+)/, '/'));
        // Not a row: how much of the fixed start-up is the TypeScript loader (tsx) alone.
        bareTsx.push(await timeStart(['--import', 'tsx', '-e', BARE_SERVER], { PATH: env.PATH, HOME: env.HOME }, /listening on (http:\/\/\S+)/, '/'));
        const at = (xs: Start[]) => `${xs.at(-1)!.seconds.toFixed(2)} s, ${xs.at(-1)!.rssMb.toFixed(0)} MB`;
        options.log(`run ${run + 1}/${runs}: cold ${at(cold)}; warm ${at(warm)}; bare node ${at(bare)}; bare node + tsx ${at(bareTsx)}`);
      }
    } catch (error) {
      failure = (error as Error).message.split('\n').slice(0, 3).join(' ').slice(0, 300);
      options.log(`failed: ${(error as Error).message}`);
    } finally {
      await Promise.all([...running].map(stop));
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    }

    const m = (xs: Start[], key: keyof Start) => (xs.length === runs ? median(xs.map((x) => x[key])) : null);
    const round = (v: number | null, digits: number) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);
    const coldS = round(m(cold, 'seconds'), 2);
    const warmS = round(m(warm, 'seconds'), 2);
    const bareS = round(m(bare, 'seconds'), 2);
    const coldRss = round(m(cold, 'rssMb'), 0);
    const bareRss = round(m(bare, 'rssMb'), 0);
    const list = (xs: Start[], key: keyof Start, digits: number) => xs.map((x) => x[key].toFixed(digits)).join(', ');
    const how = `${runs === 1 ? '1 run' : `median of ${runs} runs`}; node scripts/start.mjs (npm start), fresh DATA_DIR (PGlite, from the install's template), PORT=0; /readyz polled every ${POLL_MS} ms`;
    const failed = failure ? `; FAILED: ${failure}` : '';
    return [
      {
        scenario: NAME,
        metric: 'cold start s',
        herald: coldS,
        baseline: bareS,
        baselineName: BASELINE_NAME,
        ratio: ratioOf(coldS, bareS, 'less'),
        target: `≤ ${TARGET_S} s`,
        met: coldS === null ? null : coldS <= TARGET_S,
        note: `${how}; runs: ${list(cold, 'seconds', 2)} s; bare node + tsx loader: ${list(bareTsx, 'seconds', 2)} s${failed}`,
      },
      {
        scenario: NAME,
        metric: 'warm start s',
        herald: warmS,
        baseline: bareS,
        baselineName: BASELINE_NAME,
        ratio: ratioOf(warmS, bareS, 'less'),
        target: `≤ ${TARGET_S} s (as cold)`,
        met: warmS === null ? null : warmS <= TARGET_S,
        note: `second start on the same, already migrated DATA_DIR; runs: ${list(warm, 'seconds', 2)} s${failed}`,
      },
      {
        scenario: NAME,
        metric: 'idle RSS MB',
        herald: coldRss,
        baseline: bareRss,
        baselineName: BASELINE_NAME,
        ratio: ratioOf(coldRss, bareRss, 'less'),
        target: `≤ ${TARGET_RSS_MB} MB`,
        met: coldRss === null ? null : coldRss <= TARGET_RSS_MB,
        note: `RSS ${IDLE_MS / 1000} s after ready (first start); runs: ${list(cold, 'rssMb', 0)} MB; after warm start: ${list(warm, 'rssMb', 0)} MB; bare node + tsx: ${list(bareTsx, 'rssMb', 0)} MB${failed}`,
      },
    ];
  },
};

/**
 * Spawns `node <args>`, waits for its URL on stdout/stderr, polls `readyPath` every POLL_MS until
 * it answers 200, idles, reads the RSS, and stops the process (always).
 */
async function timeStart(args: string[], env: Record<string, string>, announce: RegExp, readyPath: string): Promise<Start> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  try {
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL from node ${args.join(' ')} after ${START_TIMEOUT_MS} ms:\n${output.slice(-1000)}`)), START_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = announce.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`node ${args.join(' ')} exited (${code}) before it was ready:\n${output.slice(-1000)}`));
      });
    });
    let seconds: number | undefined;
    while (seconds === undefined) {
      const status = await fetch(url + readyPath, { signal: AbortSignal.timeout(5_000) }).then(
        async (response) => {
          await response.arrayBuffer();
          return response.status;
        },
        () => 0,
      );
      if (status === 200) seconds = (performance.now() - t0) / 1000;
      else if (performance.now() - t0 > START_TIMEOUT_MS) throw new Error(`${url}${readyPath} not 200 after ${START_TIMEOUT_MS} ms (last: ${status})`);
      else await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const procStatus = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(procStatus)?.[1] ?? 0) / 1024;
    return { seconds, rssMb };
  } finally {
    await stop(child);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
