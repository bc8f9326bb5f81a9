// peer: Kannel, the open-source SMS gateway many teams run today. N messages through smsbox's
// `GET /cgi-bin/sendsms` at 50 concurrent keep-alive connections, each asking for a delivery
// report (dlr-mask=1, dlr-url pointing at a receiver in this process); bearerbox hands them to
// the `fake` SMSC, which writes them to `fakesmsc` (kannel-extras) over TCP and raises the
// "delivered" report, which flows back through bearerbox and smsbox to the dlr-url.
// Measured: sendsms intake req/s, and end to end: messages/s from the first request until the
// last DLR arrived — the figure to set beside Herald's end-to-end "send → DELIVERED seen".
// Kannel is native, so the load loop and DLR receiver run in this Node process.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { percentile, type BenchOptions, type BenchRow, type Scenario } from '../harness.js';
import { ensureKannel, removeDir, startKannel, type RunningKannel } from '../kannel/kannel.js';

const CONCURRENCY = 50;
const fmt = (n: number | null, digits = 0) => (n === null ? '—' : n.toFixed(digits));

function rows(e2e: number | null, intake: number | null, note: string, intakeNote = note): BenchRow[] {
  return [
    { scenario: 'peer', metric: 'end-to-end msg/s', herald: null, baseline: e2e, baselineName: 'Kannel', target: 'ratio reported', met: null, note },
    { scenario: 'peer', metric: 'sendsms intake req/s (DLR on)', herald: null, baseline: intake, baselineName: 'Kannel', target: 'reference only', met: null, note: intakeNote },
  ];
}

interface DlrReceiver {
  port: number;
  /** performance.now() at which message i's "delivered" report arrived (NaN until then). */
  arrivedAt: Float64Array;
  count(): number;
  /** Other reports (types ≠ 1), by type. */
  others: Map<string, number>;
  waitAll(deadline: number): Promise<boolean>;
  close(): Promise<void>;
}

async function dlrReceiver(n: number): Promise<DlrReceiver> {
  const arrivedAt = new Float64Array(n).fill(Number.NaN);
  const others = new Map<string, number>();
  let delivered = 0;
  let wake: (() => void) | null = null;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const i = Number(url.searchParams.get('i'));
    const type = url.searchParams.get('type') ?? '?';
    if (type === '1' && Number.isInteger(i) && i >= 0 && i < n && Number.isNaN(arrivedAt[i]!)) {
      arrivedAt[i] = performance.now();
      delivered++;
      if (delivered === n) wake?.();
    } else {
      others.set(type, (others.get(type) ?? 0) + 1);
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    arrivedAt,
    count: () => delivered,
    others,
    async waitAll(deadline) {
      if (delivered === n) return true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      return delivered === n;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface LoadResult {
  startedAt: number;
  sentAt: Float64Array;
  intakeMs: number;
  accepted: number;
  failed: number;
  firstFailure: string | null;
  latencies: number[];
  stoppedEarly: boolean;
}

/** n sendsms requests over the agent's CONCURRENCY keep-alive connections. */
async function sendsmsLoad(kannel: RunningKannel, agent: http.Agent, dlrPort: number, n: number, deadline: number): Promise<LoadResult> {
  const sentAt = new Float64Array(n).fill(Number.NaN);
  const latencies: number[] = [];
  let next = 0;
  let accepted = 0;
  let failed = 0;
  let firstFailure: string | null = null;
  let stoppedEarly = false;
  const fail = (why: string) => {
    failed++;
    firstFailure ??= why;
  };

  const request = (i: number) =>
    new Promise<void>((resolve) => {
      const dlrUrl = `http://127.0.0.1:${dlrPort}/dlr?i=${i}&type=%d`;
      const query = new URLSearchParams({
        username: 'bench',
        password: 'bench',
        from: '4600',
        to: `467${String(10_000_000 + i)}`,
        text: `Herald bench ${i}: your code is ${100_000 + (i % 900_000)}`,
        'dlr-mask': '1',
        'dlr-url': dlrUrl,
      });
      const t0 = performance.now();
      sentAt[i] = t0;
      const req = http.get({ host: '127.0.0.1', port: kannel.ports.sendsms, path: `/cgi-bin/sendsms?${query}`, agent, timeout: 15_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          if (res.statusCode === 202 || res.statusCode === 200) accepted++;
          else fail(`HTTP ${res.statusCode}: ${body.slice(0, 80)}`);
          resolve();
        });
        res.on('error', (error) => {
          fail(error.message);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('sendsms timed out after 15 s')));
      req.on('error', (error) => {
        fail(error.message);
        resolve();
      });
    });

  const startedAt = performance.now();
  const worker = async () => {
    while (next < n) {
      if (Date.now() > deadline) {
        stoppedEarly = true;
        return;
      }
      await request(next++);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const intakeMs = performance.now() - startedAt;
  return { startedAt, sentAt, intakeMs, accepted, failed, firstFailure, latencies, stoppedEarly };
}

async function run(options: BenchOptions): Promise<BenchRow[]> {
  const { log } = options;
  const n = options.quick ? 2_000 : 20_000;
  const install = await ensureKannel(log);
  if (typeof install === 'string') {
    log(`skipped: ${install}`);
    return rows(null, null, `skipped: ${install}`);
  }
  const kannelName = `Kannel ${install.version}`;
  log(`${kannelName}${install.installed ? ' (installed now)' : ''}; fakesmsc at ${install.fakesmsc}`);

  let kannel: RunningKannel | null = null;
  let receiver: DlrReceiver | null = null;
  let keepDir: string | null = null;
  // One set of keep-alive connections for the warm-up and the measurement: smsbox sometimes
  // takes ~1 s to serve a new connection's first request, a start-up cost, not throughput.
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    try {
      kannel = await startKannel(install, { log });
    } catch (error) {
      keepDir = (error as { dir?: string }).dir ?? null;
      const message = (error as Error).message.split('\n')[0]!;
      log(`cannot start Kannel: ${message}${keepDir ? ` (logs kept in ${keepDir})` : ''}`);
      return rows(null, null, `${kannelName}: could not start: ${message}`);
    }
    log(`bearerbox + smsbox + fakesmsc up (sendsms :${kannel.ports.sendsms}, fake SMSC :${kannel.ports.fake}, files in ${kannel.dir})`);

    // A short warm-up outside the measurement (connections, first allocations).
    const WARM = 1_000;
    const warm = await dlrReceiver(WARM);
    await sendsmsLoad(kannel, agent, warm.port, WARM, Date.now() + 20_000);
    const warmOk = await warm.waitAll(Date.now() + 10_000);
    await warm.close();
    if (!warmOk) {
      keepDir = kannel.dir;
      const why = `no delivery reports came back in the warm-up (${warm.count()}/${WARM}): ${await kannel.logTail()}`;
      log(why);
      return rows(null, null, `${kannelName}: ${why}`);
    }

    receiver = await dlrReceiver(n);
    const cpuBefore = await kannel.cpuSeconds();
    const nodeCpuBefore = process.cpuUsage();
    log(`sending ${n.toLocaleString('en-US')} messages at ${CONCURRENCY} connections, dlr-mask=1`);
    const intakeBudgetMs = options.quick ? 35_000 : 120_000;
    const load = await sendsmsLoad(kannel, agent, receiver.port, n, Date.now() + intakeBudgetMs);
    const intakeRate = load.accepted / (load.intakeMs / 1000);
    log(`intake: ${load.accepted} accepted, ${load.failed} failed in ${(load.intakeMs / 1000).toFixed(1)} s = ${intakeRate.toFixed(0)} req/s; DLRs so far ${receiver.count()}`);
    const allDlrs = await receiver.waitAll(Date.now() + (options.quick ? 15_000 : 30_000));
    const arrived = [...receiver.arrivedAt].filter((t) => !Number.isNaN(t));
    const lastDlr = arrived.length ? Math.max(...arrived) : Number.NaN;
    const e2eMs = lastDlr - load.startedAt;
    const e2eLatency: number[] = [];
    for (let i = 0; i < n; i++) {
      const at = receiver.arrivedAt[i]!;
      if (!Number.isNaN(at)) e2eLatency.push(at - load.sentAt[i]!);
    }
    const cpuAfter = await kannel.cpuSeconds();
    const nodeCpu = process.cpuUsage(nodeCpuBefore);
    const status = await kannel.status();
    const fakesmsc = await kannel.stop();
    const cpu = Object.entries(cpuAfter)
      .map(([name, s]) => `${name} ${(s - (cpuBefore[name] ?? 0)).toFixed(1)}`)
      .concat(`node load+DLR receiver ${((nodeCpu.user + nodeCpu.system) / 1e6).toFixed(1)}`)
      .join(', ');
    log(`DLRs: ${receiver.count()}/${n} in ${(e2eMs / 1000).toFixed(1)} s; CPU s: ${cpu}`);
    log(`fakesmsc: ${fakesmsc || '(no summary)'}; bearerbox ${status.match(/SMS: received[^\n]*/)?.[0] ?? ''} / ${status.match(/DLR: received[^\n]*/)?.[0] ?? ''}`);

    const problems: string[] = [];
    if (load.stoppedEarly) problems.push(`intake stopped at the ${intakeBudgetMs / 1000} s budget`);
    if (load.failed) problems.push(`${load.failed} sendsms failed (${load.firstFailure})`);
    if (!allDlrs) problems.push(`only ${receiver.count()} of ${n} DLRs arrived`);
    if (receiver.others.size) problems.push(`other DLR types: ${[...receiver.others].map(([t, c]) => `${t}×${c}`).join(', ')}`);
    const complete = !load.stoppedEarly && load.failed === 0 && allDlrs;
    const e2eRate = complete ? n / (e2eMs / 1000) : null;
    const common = `${kannelName}, ${n.toLocaleString('en-US')} msgs, ${CONCURRENCY} conns, warm keep-alive connections, in-process Node load loop (Kannel is native)`;
    const e2eNote =
      `${common}; sendsms → bearerbox → fake SMSC → fakesmsc (${fakesmsc || 'no summary'}), DLR (dlr-mask=1, raised by the fake SMSC once written to fakesmsc) → dlr-url; ` +
      `send→DLR p50 ${fmt(percentile(e2eLatency, 0.5))} ms, p99 ${fmt(percentile(e2eLatency, 0.99))} ms; file store, internal DLR storage; CPU s: ${cpu}` +
      (problems.length ? `; ${problems.join('; ')}` : '');
    const intakeNote = `${common}; sendsms 202 p50 ${fmt(percentile(load.latencies, 0.5), 1)} ms, p99 ${fmt(percentile(load.latencies, 0.99), 1)} ms` + (load.failed ? `; ${load.failed} failed` : '');
    if (!complete) keepDir = kannel.dir;
    return rows(e2eRate, load.accepted ? intakeRate : null, e2eNote, intakeNote);
  } finally {
    agent.destroy();
    await receiver?.close();
    if (kannel) await kannel.stop();
    if (kannel && !keepDir) await removeDir(kannel.dir);
    if (keepDir) log(`Kannel logs kept in ${keepDir}`);
  }
}

export const scenario: Scenario = { name: 'peer', run };
