// Tenant isolation: account A makes one of everything (messages, a scheduled one, a batch,
// templates in each state, an opt-out, a sender identity, a simulated reply, a verification, a
// key, a word rule); account B, with its own ADMIN and SENDER keys, then probes every query,
// node(id), list filter, mutation and subscription with A's ids and numbers. A leak is any of
// A's ids or words in B's data, or any of A's rows changed. The operations taking an ID are read
// from the schema, so a new one without a probe fails the run.
import { Buffer } from 'node:buffer';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { PrismaClient } from '../../src/db/database.js';
import { createApiKey, ensureAccount } from '../../src/services/api-keys.js';
import { NO_LIMITS } from '../../bench/support.js';
import { loadSchema } from '../abuse/graphql-arbitraries.js';
import { forEachConcurrent, graphql, startAbuseHerald } from '../abuse/herald.js';
import { caller, createTenantA, type TenantA } from '../abuse/tenant-fixture.js';
import { buildProbes, operationsTakingAnId, rawId, type Probe } from '../abuse/tenant-probes.js';
import type { ChaosRow, ChaosScenario } from '../harness.js';

const NAME = 'tenant-isolation';
const SUBSCRIPTION_WAIT_MS = 2_000;

/** A's rows as they stand (lastUsedAt left out: it moves when A's keys are used). */
async function rowsOf(prisma: PrismaClient, accountId: string): Promise<string> {
  const where = { accountId };
  const parts = await Promise.all([
    prisma.message.findMany({ where, select: { id: true, status: true, updatedAt: true, body: true, templateId: true }, orderBy: { id: 'asc' } }),
    prisma.template.findMany({ where, orderBy: { id: 'asc' } }),
    prisma.templateVersion.findMany({ where: { template: { accountId } }, orderBy: { id: 'asc' } }),
    prisma.optOut.findMany({ where, orderBy: { phone: 'asc' } }),
    prisma.senderIdentity.findMany({ where, orderBy: { id: 'asc' } }),
    prisma.price.findMany({ where, orderBy: { id: 'asc' } }),
    prisma.apiKey.findMany({ where, select: { id: true, name: true, role: true, revokedAt: true }, orderBy: { id: 'asc' } }),
    prisma.verification.findMany({ where, orderBy: { id: 'asc' } }),
    prisma.inboundMessage.findMany({ where, select: { id: true }, orderBy: { id: 'asc' } }),
    prisma.batch.findMany({ where, orderBy: { id: 'asc' } }),
    prisma.sensitiveWordRule.findMany({ where, orderBy: { word: 'asc' } }),
    prisma.messageEvent.count({ where: { message: { accountId } } }),
    prisma.webhookEndpoint.findMany({ where, select: { id: true, url: true, description: true, eventTypes: true, secret: true, enabled: true }, orderBy: { id: 'asc' } }),
  ]);
  return JSON.stringify(parts, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

/** A's ids and words found in `data` (errors are left out: they may echo what B sent). */
function leaksIn(data: unknown, markers: string[], sent: string): string[] {
  const found: string[] = [];
  const walk = (value: unknown, key: string) => {
    if (typeof value === 'string') {
      for (const marker of markers) {
        // An id field with A's id is a leak even if B sent it; elsewhere, an echo of B's own input is not.
        if (value.includes(marker) && (key === 'id' || key.endsWith('Id') || !sent.includes(marker))) found.push(`${key}=${value.slice(0, 80)}`);
      }
    } else if (Array.isArray(value)) value.forEach((v) => walk(v, key));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(data, '');
  return found;
}

export const scenario: ChaosScenario = {
  name: NAME,
  fast: true,
  async run(options) {
    const keys = { aAdmin: '', bAdmin: '', bSender: '', bAccountId: '' };
    // A's webhook endpoint points at 127.0.0.1 (nothing listens there): allowed by the opt-out.
    const herald = await startAbuseHerald(options, { SIMULATOR_DELAY_MS: '20', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }, async (db) => {
      const prisma = db.database.prisma;
      keys.aAdmin = (await createApiKey(prisma, { accountId: db.accountId, name: 'a-admin', role: 'ADMIN' })).secret;
      const b = await ensureAccount(prisma, 'chaos-b');
      await prisma.accountSettings.create({ data: { accountId: b.id, limits: NO_LIMITS } });
      keys.bAccountId = b.id;
      keys.bAdmin = (await createApiKey(prisma, { accountId: b.id, name: 'b-admin', role: 'ADMIN' })).secret;
      keys.bSender = (await createApiKey(prisma, { accountId: b.id, name: 'b-sender', role: 'SENDER' })).secret;
    });
    const prisma = herald.db.database.prisma;
    const aId = herald.db.accountId;
    try {
      const a = await createTenantA(herald.url, keys.aAdmin);
      // The global ids the API hands out for A's things (node(id) and friends take both forms).
      const globalIds = await globalIdsOf(herald.url, keys.aAdmin, a);
      // Let A's messages settle (the simulator reports after 20 ms) so only B's probes could move them.
      const settle = Date.now() + 15_000;
      while (Date.now() < settle && (await prisma.message.count({ where: { accountId: aId, status: { in: ['QUEUED', 'SENDING', 'SENT'] } } })) > 0) await new Promise((r) => setTimeout(r, 200));
      const before = await rowsOf(prisma, aId);
      const markers = [...new Set([a.secret, ...Object.values(a.ids), ...Object.values(a.ids).map(rawId), ...globalIds, a.phones.optedOut, a.phones.sender])];

      const probes: Probe[] = buildProbes(a, globalIds);
      let sent = 0;
      let broken = 0;
      const leaks: string[] = [];
      const brokenNotes: string[] = [];
      await forEachConcurrent(probes, 3, async (probe) => {
        for (const key of [keys.bAdmin, keys.bSender]) {
          sent++;
          const answer = await graphql(herald.url, key, probe.query, probe.variables);
          // What B sent, with its global ids decoded too: an error naming the id B gave is an echo.
          const given = Object.values(probe.variables ?? {}).filter((v): v is string => typeof v === 'string');
          const text = [JSON.stringify(probe.variables ?? {}), probe.query, ...given.map(rawId)].join(' ');
          // A probe the validator refuses reaches no resolver and proves nothing.
          if (answer.status === 400 || answer.json?.errors?.some((e) => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' || e.extensions?.code === 'BAD_USER_INPUT') || answer.status >= 500) {
            broken++;
            brokenNotes.push(`${probe.covers[0]} → ${answer.status} ${answer.body.slice(0, 160)}`);
          }
          for (const leak of leaksIn(answer.json?.data, markers, text)) leaks.push(`${probe.covers.join(',')}: ${leak}`);
        }
      });

      // The detector's own control: the same probes with A's key must find A's data.
      let seenByA = 0;
      for (const probe of probes.filter((p) => ['Query.message', 'Query.templates', 'Query.auditLog', 'Query.exportAuditLog'].includes(p.covers[0]!))) {
        const answer = await graphql(herald.url, keys.aAdmin, probe.query, probe.variables);
        seenByA += leaksIn(answer.json?.data, markers, '').length;
      }

      // Subscriptions with B's key: A's message ids, and B's account-wide streams while A acts.
      const sub = await probeSubscriptions(herald.url, keys, a, markers);
      sent += sub.sent;
      leaks.push(...sub.leaks);
      broken += sub.broken;

      const settleAgain = Date.now() + 15_000;
      while (Date.now() < settleAgain && (await prisma.message.count({ where: { accountId: aId, status: { in: ['QUEUED', 'SENDING', 'SENT'] } } })) > 0) await new Promise((r) => setTimeout(r, 200));
      const after = await rowsOfExcluding(prisma, aId, sub.createdByA);
      const changed = before !== after;

      const needed = operationsTakingAnId(loadSchema());
      const covered = new Set([...probes.flatMap((p) => p.covers), 'Subscription.messageStatusChanged', 'Subscription.messageEvents']);
      const unprobed = needed.filter((op) => !covered.has(op));

      const rows: ChaosRow[] = [];
      const row = (figure: string, value: number | string, expected: string, ok: boolean, note?: string) => rows.push({ scenario: NAME, figure, value, expected, ok, ...(note ? { note } : {}) });
      row('probes sent by B (ADMIN and SENDER keys)', sent, '> 0', sent > 0, `${probes.length} HTTP probes × 2 keys + ${sub.sent} subscriptions; ${covered.size} root fields`);
      row("leaks (A's ids or words in B's answers)", leaks.length, '0', leaks.length === 0, leaks.slice(0, 3).join('; ') || undefined);
      row("A's rows changed by B", changed ? 'yes' : 0, '0', !changed, changed ? diffNote(before, after) : undefined);
      row('operations taking an ID left unprobed', unprobed.length, '0', unprobed.length === 0, unprobed.join(', ') || `${needed.length} found in the schema`);
      row('probes refused before a resolver (broken probes)', broken, '0', broken === 0, brokenNotes.slice(0, 2).join('; ') || sub.notes.join('; ') || undefined);
      row("leak detector control (A's own key, same probes: A's data found)", seenByA, '> 0', seenByA > 0);
      row('own-account control (B sees its own message and subscription)', sub.control ? 'yes' : 'no', 'yes', sub.control);
      return rows;
    } finally {
      await herald.stop();
    }
  },
};

/** A's rows, after subscriptions made A send one more message and take one more reply: those are left out. */
async function rowsOfExcluding(prisma: PrismaClient, accountId: string, created: { messages: string[]; inbound: string[] }): Promise<string> {
  const messages = created.messages.map(rawId);
  await prisma.messageEvent.deleteMany({ where: { messageId: { in: messages } } });
  await prisma.message.deleteMany({ where: { id: { in: messages } } });
  await prisma.inboundMessage.deleteMany({ where: { id: { in: created.inbound.map(rawId) } } });
  return rowsOf(prisma, accountId);
}

function diffNote(before: string, after: string): string {
  let i = 0;
  while (i < before.length && before[i] === after[i]) i++;
  return `first difference: …${before.slice(Math.max(0, i - 80), i + 80)}… → …${after.slice(Math.max(0, i - 80), i + 80)}…`;
}

async function globalIdsOf(url: string, key: string, a: TenantA): Promise<string[]> {
  const call = caller(url, key);
  const data = await call(
    `query($m: ID!, $s: ID!, $t: ID!, $b: ID!, $v: ID!) { m: message(id: $m) { id } s: message(id: $s) { id } t: template(id: $t) { id } b: batch(id: $b) { id }
      inboundMessages(first: 5) { edges { node { id } } } verifications(first: 5) { edges { node { id } } } senderIdentities { id } apiKeys { id } v: node(id: $v) { id } }`,
    { m: a.ids.message, s: a.ids.scheduledMessage, t: a.ids.templatePending, b: a.ids.batch, v: a.ids.verification },
  );
  const found = new Set<string>();
  const walk = (v: unknown, k: string) => {
    if (typeof v === 'string' && k === 'id') found.add(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, k));
    else if (v && typeof v === 'object') for (const [kk, vv] of Object.entries(v)) walk(vv, kk);
  };
  walk(data, '');
  // Raw uuids are already among A's ids; keep the encoded ones.
  return [...found].filter((id) => !Object.values(a.ids).includes(id) && !Object.values(a.ids).map(rawId).includes(id));
}

interface SubscriptionOutcome {
  sent: number;
  broken: number;
  leaks: string[];
  notes: string[];
  control: boolean;
  createdByA: { messages: string[]; inbound: string[] };
}

async function probeSubscriptions(url: string, keys: { aAdmin: string; bAdmin: string; bSender: string }, a: TenantA, markers: string[]): Promise<SubscriptionOutcome> {
  const out: SubscriptionOutcome = { sent: 0, broken: 0, leaks: [], notes: [], control: false, createdByA: { messages: [], inbound: [] } };
  const wsUrl = url.replace(/^http/, 'ws') + '/graphql';
  const client = (key: string) => createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0, lazy: true });
  const b = client(keys.bAdmin);
  const received: { op: string; data: unknown }[] = [];
  const stops: (() => void)[] = [];
  const follow = (op: string, query: string, variables?: Record<string, unknown>) => {
    out.sent++;
    stops.push(
      b.subscribe({ query, variables }, {
        next: (value) => received.push({ op, data: value.data }),
        error: () => {},
        complete: () => {},
      }),
    );
  };
  try {
    const msgIds = [a.ids.message, a.ids.scheduledMessage, a.ids.templateMessage].filter(Boolean) as string[];
    for (const id of msgIds) follow('messageStatusChanged', 'subscription($id: ID!) { messageStatusChanged(id: $id) { id body status } }', { id });
    follow('messageEvents', 'subscription { messageEvents { id body status } }');
    follow('messageEvents(batchId)', 'subscription($b: ID!) { messageEvents(filter: { batchId: $b }) { id body status } }', { b: a.ids.batch });
    follow('inboundMessageReceived', 'subscription { inboundMessageReceived { id body from } }');
    await new Promise((r) => setTimeout(r, 500));
    // A acts while B listens: a new message, a cancel of A's scheduled one, a reply.
    const aCall = caller(url, keys.aAdmin);
    const sentA = (await aCall(`mutation($b: String!) { sendMessage(input: { to: "+8613800138127", body: $b }) { ... on SendMessageSuccess { data { id } } } }`, { b: `More ${a.secret}` })) as { sendMessage: { data?: { id: string } } };
    if (sentA.sendMessage.data) out.createdByA.messages.push(sentA.sendMessage.data.id);
    const reply = (await aCall(`mutation($f: String!, $t: String!, $b: String!) { simulateInboundMessage(from: $f, to: $t, body: $b) { ... on SimulateInboundMessageSuccess { data { id } } } }`, { f: '+8613800138128', t: a.phones.sender, b: `Again ${a.secret}` })) as { simulateInboundMessage: { data?: { id: string } } };
    if (reply.simulateInboundMessage.data) out.createdByA.inbound.push(reply.simulateInboundMessage.data.id);
    // Control: B's own message, followed by B, does arrive (the subscriptions are live).
    const bCall = caller(url, keys.bSender);
    const own = (await bCall('mutation { sendMessage(input: { to: "+8613800138129", body: "b own" }) { ... on SendMessageSuccess { data { id } } } }')) as { sendMessage: { data?: { id: string } } };
    const ownId = own.sendMessage.data?.id;
    if (ownId) {
      out.sent++;
      stops.push(b.subscribe({ query: 'subscription($id: ID!) { messageStatusChanged(id: $id) { id status } }', variables: { id: ownId } }, { next: (v) => received.push({ op: 'own', data: v.data }), error: () => {}, complete: () => {} }));
    }
    await new Promise((r) => setTimeout(r, SUBSCRIPTION_WAIT_MS));
    out.control = received.some((r) => r.op === 'own' && JSON.stringify(r.data).includes(ownId ?? '\u0000'));
    for (const r of received) {
      if (r.op === 'own') continue;
      const text = JSON.stringify(r.data);
      const hit = markers.filter((m) => text.includes(m));
      if (hit.length > 0 || (r.op !== 'messageEvents' && r.data)) out.leaks.push(`subscription ${r.op}: ${text.slice(0, 120)}`);
    }
  } finally {
    for (const stop of stops) stop();
    await b.dispose();
  }
  return out;
}
