// GraphQL fuzzing: fast-check generates requests from the printed schema (random operations,
// selections and arguments, wrong types, huge and odd values, malformed bodies, odd headers) and
// POSTs them with a valid ADMIN key to a production-mode Herald process, a few at a time.
// Nothing may crash it, answer 5xx, or leak a stack trace or SQL; afterwards a normal query
// still answers promptly.
import fc from 'fast-check';
import { createApiKey } from '../../src/services/api-keys.js';
import { loadSchema, requestArb, type FuzzRequest } from '../abuse/graphql-arbitraries.js';
import { forEachConcurrent, graphql, isReady, startAbuseHerald } from '../abuse/herald.js';
import type { ChaosRow, ChaosScenario } from '../harness.js';

const NAME = 'fuzz';
const CONCURRENCY = 4;

/** What must never reach a client: stack frames, source paths, SQL, Prisma's own messages. */
const LEAKS: [string, RegExp][] = [
  ['stack frame', /\bat (?:async )?[\w$.<>]+ \(|\bat (?:file:\/\/)?\/[\w./-]+:\d+/],
  ['source path', /\.(?:ts|js|mjs):\d+/],
  ['SQL', /\b(?:SELECT|INSERT|UPDATE|DELETE)\b[^"]{0,80}\b(?:FROM|INTO|SET|WHERE)\b/i],
  ['Prisma', /prisma|Invalid `/i],
];

function leakIn(body: string, request: FuzzRequest): string | undefined {
  const sent = `${request.search}${request.body ?? ''}`;
  for (const [what, pattern] of LEAKS) {
    const match = pattern.exec(body);
    // An echo of what the fuzzer itself sent is not a leak.
    if (match && !sent.includes(match[0])) return `${what}: …${body.slice(Math.max(0, match.index - 60), match.index + 80)}…`;
  }
  return undefined;
}

export const scenario: ChaosScenario = {
  name: NAME,
  fast: true,
  async run(options) {
    const cases = options.quick ? 1_000 : 10_000;
    let adminKey = '';
    const herald = await startAbuseHerald(options, {}, async (db) => {
      adminKey = (await createApiKey(db.database.prisma, { accountId: db.accountId, name: 'fuzz-admin', role: 'ADMIN' })).secret;
    });
    try {
      const seed = Number(process.env.CHAOS_FUZZ_SEED ?? Date.now() % 2 ** 31);
      const requests = fc.sample(requestArb(loadSchema(), adminKey), { numRuns: cases, seed });
      const statuses = new Map<number, number>();
      const fiveHundreds: string[] = [];
      const leaks: string[] = [];
      const slowest: { ms: number; what: string }[] = [];
      let crashedAt: number | undefined;
      const t0 = Date.now();
      await forEachConcurrent(requests, CONCURRENCY, async (request, index) => {
        if (crashedAt !== undefined) return;
        let status = 0;
        let body = '';
        const started = performance.now();
        try {
          const res = await fetch(`${herald.url}/graphql${request.search}`, { method: request.method, headers: request.headers, body: request.body, signal: AbortSignal.timeout(30_000) });
          status = res.status;
          body = await res.text();
        } catch (error) {
          body = String((error as Error).cause ?? error);
          if (!herald.alive()) crashedAt = index;
        }
        slowest.push({ ms: performance.now() - started, what: `${request.kind} ${(request.body ?? request.search).length} B: ${(request.body ?? request.search).slice(0, 120)}` });
        slowest.sort((x, y) => y.ms - x.ms).splice(3);
        if ((index + 1) % 250 === 0) options.log(`${index + 1}/${cases}`);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500 || status === 0) fiveHundreds.push(`${status} ${request.kind}: ${(request.body ?? request.search).slice(0, 160)} → ${body.slice(0, 160)}`);
        const leak = leakIn(body, request);
        if (leak) leaks.push(`${request.kind} ${status}: ${leak}`);
      });
      const seconds = (Date.now() - t0) / 1000;
      options.log(`${cases} requests in ${seconds.toFixed(1)} s (seed ${seed}); statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
      for (const line of [...fiveHundreds, ...leaks].slice(0, 10)) options.log(line);
      for (const s of slowest) options.log(`slow: ${Math.round(s.ms)} ms ${s.what}`);

      const rows: ChaosRow[] = [];
      const row = (figure: string, value: number | string, expected: string, ok: boolean, note?: string) => rows.push({ scenario: NAME, figure, value, expected, ok, ...(note ? { note } : {}) });
      const alive = herald.alive();
      row(`requests sent (seed ${seed})`, requests.length, `${cases}`, requests.length === cases, `HTTP statuses: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s || 'no answer'}×${n}`).join(', ')}; ${seconds.toFixed(0)} s`);
      row('server crashes (process exit)', alive ? 0 : 1, '0', alive, crashedAt !== undefined ? `after request ${crashedAt}` : undefined);
      row('5xx or no answer', fiveHundreds.length, '0', fiveHundreds.length === 0, fiveHundreds[0]?.slice(0, 300));
      row('answers leaking a stack trace or SQL', leaks.length, '0', leaks.length === 0, leaks[0]?.slice(0, 300));

      const ready = await isReady(herald.url);
      const after = await graphql(herald.url, herald.db.key, '{ viewer { account { id } } messages(first: 5) { edges { node { id status } } } }');
      const normal = after.status === 200 && !after.json?.errors && after.json?.data?.viewer !== undefined;
      row('normal query afterwards (ms)', Math.round(after.ms), '< 1000, answered', ready && normal && after.ms < 1_000, normal ? undefined : after.body.slice(0, 200));
      return rows;
    } finally {
      await herald.stop();
    }
  },
};
