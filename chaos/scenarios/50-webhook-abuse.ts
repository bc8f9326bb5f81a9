// Webhook abuse: forged, tampered, replayed and oversized delivery reports and replies, sent to
// the simulator, Twilio, Aliyun and Tencent routes of a Herald process, about real messages that
// are waiting for their report (SENT). Every one must be refused, and no Message, MessageEvent,
// InboundMessage or PendingStatusReport row may change. Then a genuine signed report is sent as
// a control (it must apply, or the zero above proves nothing), and replayed inside the window
// (accepted by design, and it must move nothing).
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../../src/db/database.js';
import { createSignatureHeaders } from '../../src/providers/simulator/simulator-signature.js';
import { computeTwilioSignature } from '../../src/providers/twilio/twilio-signature.js';
import { getSimulatorSecret } from '../../src/services/secrets.js';
import { createSecretStore } from '../../src/store/secrets.js';
import { forEachConcurrent, graphql, isReady, pct, post, startAbuseHerald } from '../abuse/herald.js';
import { buildAttacks, type AttackKind, type Secrets, type Target } from '../abuse/webhook-attacks.js';
import type { ChaosRow, ChaosScenario } from '../harness.js';

const NAME = 'webhook-abuse';

interface Snapshot {
  messages: Map<string, string>;
  events: number;
  inbound: number;
  pending: number;
}

async function snapshot(prisma: PrismaClient): Promise<Snapshot> {
  const messages = await prisma.message.findMany({ select: { id: true, status: true, updatedAt: true, providerMessageId: true, errorCode: true } });
  return {
    messages: new Map(messages.map((m) => [m.id, `${m.status}|${m.updatedAt.toISOString()}|${m.providerMessageId}|${m.errorCode}`])),
    events: await prisma.messageEvent.count(),
    inbound: await prisma.inboundMessage.count(),
    pending: await prisma.pendingStatusReport.count(),
  };
}

const changedMessages = (before: Snapshot, after: Snapshot) =>
  [...after.messages].filter(([id, state]) => before.messages.get(id) !== state).length + [...before.messages.keys()].filter((id) => !after.messages.has(id)).length;

export const scenario: ChaosScenario = {
  name: NAME,
  fast: true,
  async run(options) {
    const secrets: Secrets = {
      simulator: '',
      twilioSid: `AC${randomBytes(16).toString('hex')}`,
      twilioToken: randomBytes(16).toString('hex'),
      aliyunToken: randomBytes(16).toString('hex'),
      tencentToken: randomBytes(16).toString('hex'),
    };
    // Providers configured against an address where nothing listens: only their callbacks matter.
    const nowhere = 'http://127.0.0.1:9';
    const herald = await startAbuseHerald(
      options,
      {
        SMS_PROVIDERS: 'simulator,twilio,aliyun,tencent',
        // Reports far in the future: the messages stay SENT, so a report that got through would show.
        SIMULATOR_DELAY_MS: String(10 * 60_000),
        TWILIO_ACCOUNT_SID: secrets.twilioSid,
        TWILIO_AUTH_TOKEN: secrets.twilioToken,
        TWILIO_FROM: '+15550100',
        TWILIO_API_BASE_URL: nowhere,
        ALIYUN_ACCESS_KEY_ID: 'chaos',
        ALIYUN_ACCESS_KEY_SECRET: 'chaos',
        ALIYUN_SIGN_NAME: 'Herald',
        ALIYUN_ENDPOINT: nowhere,
        ALIYUN_CALLBACK_TOKEN: secrets.aliyunToken,
        TENCENT_SECRET_ID: 'chaos',
        TENCENT_SECRET_KEY: 'chaos',
        TENCENT_SMS_SDK_APP_ID: '1400000000',
        TENCENT_SIGN_NAME: 'Herald',
        TENCENT_ENDPOINT: nowhere,
        TENCENT_CALLBACK_TOKEN: secrets.tencentToken,
      },
      async (db) => {
        secrets.simulator = await getSimulatorSecret(createSecretStore(db.database.prisma));
      },
    );
    const prisma = herald.db.database.prisma;
    try {
      const rows: ChaosRow[] = [];
      const row = (figure: string, value: number | string, expected: string, ok: boolean, note?: string) => rows.push({ scenario: NAME, figure, value, expected, ok, ...(note ? { note } : {}) });

      // Real messages, accepted by the simulator and waiting for a report.
      for (let i = 0; i < 4; i++) {
        const sent = await graphql(herald.url, herald.db.key, 'mutation($to: String!) { sendMessage(input: { to: $to, body: "chaos webhook target" }) { __typename } }', { to: `+86138001381${20 + i}` });
        if (sent.json?.data?.sendMessage && (sent.json.data.sendMessage as { __typename: string }).__typename !== 'SendMessageSuccess') throw new Error(`sendMessage: ${sent.body}`);
      }
      const deadline = Date.now() + 20_000;
      let targets: Target[] = [];
      while (Date.now() < deadline) {
        const sent = await prisma.message.findMany({ where: { status: 'SENT', providerMessageId: { not: null } }, select: { id: true, to: true, providerMessageId: true } });
        targets = sent.map((m) => ({ id: m.id, to: m.to, providerMessageId: m.providerMessageId! }));
        if (targets.length === 4) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      if (targets.length < 4) throw new Error(`only ${targets.length} of 4 messages reached SENT`);

      const before = await snapshot(prisma);
      const attacks = buildAttacks(secrets, herald.url, targets);
      const outcomes = new Map<AttackKind, { sent: number; refused: number; cut: number; wrong: string[] }>();
      await forEachConcurrent(attacks, 3, async (attack) => {
        const answer = await post(`${herald.url}${attack.path}`, attack.body, attack.headers, 30_000);
        // A connection cut while a huge body is still arriving is a refusal too (nothing was read).
        const refused = answer.status === attack.expect || (attack.kind === 'oversized' && answer.status === 0);
        const tally = outcomes.get(attack.kind) ?? { sent: 0, refused: 0, cut: 0, wrong: [] };
        tally.sent++;
        if (refused) tally.refused++;
        if (answer.status === 0) tally.cut++;
        if (!refused) tally.wrong.push(`${attack.provider} "${attack.name}" → ${answer.status || answer.body}`);
        outcomes.set(attack.kind, tally);
      });
      for (const kind of ['forged', 'tampered', 'replayed', 'oversized'] as const) {
        const t = outcomes.get(kind) ?? { sent: 0, refused: 0, cut: 0, wrong: [] };
        const providers = [...new Set(attacks.filter((a) => a.kind === kind).map((a) => a.provider))].join(', ');
        row(`${kind} callbacks refused (${t.sent})`, pct(t.refused, t.sent), '100 %', t.sent > 0 && t.refused === t.sent, t.wrong.length ? t.wrong.slice(0, 4).join('; ') : `${providers}${t.cut ? `; ${t.cut} cut off before an answer` : ''}`);
      }

      const after = await snapshot(prisma);
      row('Message rows changed', changedMessages(before, after), '0', changedMessages(before, after) === 0);
      row('MessageEvent rows added', after.events - before.events, '0', after.events === before.events);
      row('InboundMessage rows added', after.inbound - before.inbound, '0', after.inbound === before.inbound);
      row('PendingStatusReport rows added', after.pending - before.pending, '0', after.pending === before.pending);
      const ready = await isReady(herald.url);
      row('/readyz after the abuse', ready ? '200' : 'no', '200', ready && herald.alive());

      // Control: the same route takes a genuine report, so the zeros above are the signature's doing.
      const target = targets[0]!;
      const genuine = Buffer.from(JSON.stringify({ reference: target.id, providerMessageId: target.providerMessageId, status: 'delivered', timestamp: new Date().toISOString() }));
      const headers = { 'content-type': 'application/json', ...createSignatureHeaders(secrets.simulator, genuine, new Date()) };
      const first = await post(`${herald.url}/webhooks/simulator/status`, genuine, headers);
      const applied = await prisma.message.findUniqueOrThrow({ where: { id: target.id }, select: { status: true, updatedAt: true } });
      row('genuine signed report applied (control)', `${first.status} → ${applied.status}`, '200 → DELIVERED', first.status === 200 && applied.status === 'DELIVERED');
      const replay = await post(`${herald.url}/webhooks/simulator/status`, genuine, headers);
      const replayed = await prisma.message.findUniqueOrThrow({ where: { id: target.id }, select: { status: true, updatedAt: true } });
      const moved = replayed.status !== applied.status || replayed.updatedAt.getTime() !== applied.updatedAt.getTime();
      row('same report replayed inside the window: message moved', moved ? 1 : 0, '0', replay.status === 200 && !moved, `answer ${replay.status}; accepted by design (idempotent), recorded as an event only`);

      // Twilio's control: a correctly signed callback for the same URL is applied, so the tampered
      // ones above were refused for their tampering, not because the URL signed was never right.
      const twilioTarget = targets[1]!;
      const twilioPath = `/webhooks/twilio/status?ref=${twilioTarget.id}`;
      const params = { MessageSid: 'SM00000000000000000000000000000001', MessageStatus: 'delivered', AccountSid: secrets.twilioSid };
      const twilio = await post(`${herald.url}${twilioPath}`, new URLSearchParams(params).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': computeTwilioSignature(secrets.twilioToken, `${herald.url}${twilioPath}`, params),
      });
      const twilioApplied = await prisma.message.findUniqueOrThrow({ where: { id: twilioTarget.id }, select: { status: true } });
      row('genuine Twilio callback applied (control)', `${twilio.status} → ${twilioApplied.status}`, '200 → DELIVERED', twilio.status === 200 && twilioApplied.status === 'DELIVERED');
      return rows;
    } finally {
      await herald.stop();
    }
  },
};
