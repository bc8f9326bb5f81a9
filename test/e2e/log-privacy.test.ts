// Phone numbers and message bodies in the logs of a real run: a Herald server (a primary, an HTTP
// worker and a dispatcher, on PostgreSQL) at LOG_LEVEL=trace sends, fails, takes a STOP reply and
// a reply to a number nobody owns (logged as a warning), verifies a number; its whole log output
// must carry no number unmasked, in any format, and no body. The same run with
// LOG_PHONE_NUMBERS=full shows the numbers, so the scan is known to find them when they are there.
import { afterAll, describe, expect, it } from 'vitest';
import { SMSClient } from '../../src/client/index.js';
import { createSignatureHeaders } from '../../src/providers/simulator/simulator-signature.js';
import { runCli, spawnHerald, type HeraldProcess } from '../support/process.js';
import { createFreshDatabase, waitUntil } from '../support/services.js';

const HANDSET = '+8613800138000';
// Every way the handset's number could be written in a log line.
const HANDSET_FORMATS = ['+8613800138000', '8613800138000', '13800138000', '138 0013 8000', '138-0013-8000', '+86 138 0013 8000'];
const OTHERS = ['+14155550000', '+14155550001', '+447911123456', '+14155559999'];
const OUR_NUMBER = '+14155550150';
const BODY = 'privacy-body-7f3a2c';

const processes: HeraldProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  for (const cleanup of cleanups) await cleanup();
});

/** Starts a server on a fresh database, drives every path that handles a number, stops it, returns its log. */
async function runAndCollectLogs(extraEnv: Record<string, string>): Promise<string> {
  const database = await createFreshDatabase('logprivacy');
  cleanups.push(() => database.drop());
  const env = { DATABASE_URL: database.url, PORT: '0', HTTP_WORKERS: '1', LOG_LEVEL: 'trace', DISPATCH_POLL_MS: '200', ...extraEnv };
  const proc = spawnHerald(['server'], env);
  processes.push(proc);
  const [, key] = await proc.waitFor(/^\s+(hk_\S+)$/m);
  const [, url] = await proc.waitFor(/listening on (http:\/\/\S+\/graphql)/);
  const secret = (await runCli(['simulator-secret'], { DATABASE_URL: database.url })).stdout.trim().split('\n').at(-1)!;
  const sms = new SMSClient({ url, apiKey: key! });
  try {
    await sms.updateAccountSettings({ limits: { perRecipient: null, perAccount: null } }).catch(() => undefined);
    await sms.addSenderIdentity(OUR_NUMBER, { isDefault: true });
    const sent = [
      await sms.sendSMS({ to: '+86 138 0013 8000', message: `${BODY} one` }),
      ...(await Promise.all(OTHERS.map((to) => sms.sendSMS({ to, message: `${BODY} ${to}` })))),
    ];
    // An invalid number (refused at intake), a verification (its body carries the code), a STOP.
    await sms.sendSMS({ to: '+86 138 0013 800', message: BODY }).catch(() => undefined);
    await sms.startVerification({ to: HANDSET });
    await waitUntil(async () => ((await Promise.all(sent.map((m) => sms.getMessage(m.id)))).every((m) => m && !['QUEUED', 'SENDING'].includes(m.status)) ? true : undefined), {
      timeoutMs: 20_000,
      describe: () => 'messages still queued',
    });
    await sms.simulateInboundMessage({ from: HANDSET, to: OUR_NUMBER, body: `STOP ${BODY}` });
    await sms.sendSMS({ to: HANDSET, message: BODY }).catch(() => undefined); // opted out now
    // A reply to a number no account owns: dropped with a warning that names the number.
    const raw = Buffer.from(JSON.stringify({ from: HANDSET, to: '+14155559999', body: BODY }));
    const posted = await fetch(url.replace(/\/graphql$/, '/webhooks/simulator/inbound'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...createSignatureHeaders(secret, raw, new Date()) },
      body: raw,
    });
    expect(posted.status).toBeLessThan(300);
  } finally {
    await sms.close();
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
  return proc.output();
}

describe('phone numbers and bodies in the logs of a full run', { timeout: 120_000 }, () => {
  it('are masked by default: no number in any format, no body', async () => {
    const log = await runAndCollectLogs({});
    expect(log.split('\n').length).toBeGreaterThan(50); // trace level: the run did log
    for (const format of [...HANDSET_FORMATS, ...OTHERS, OUR_NUMBER]) expect(log, `${format} in the log`).not.toContain(format);
    expect(log).not.toContain(BODY);
    // What is logged of a number is its masked form (the reply to a number nobody owns).
    expect(log).toContain('+1 415***9999');
  });

  it('are whole with LOG_PHONE_NUMBERS=full, which the scan above would catch', async () => {
    const log = await runAndCollectLogs({ LOG_PHONE_NUMBERS: 'full' });
    expect(log).toContain('+14155559999');
    expect(log).not.toContain(BODY);
  });
});
