// The fan-out benchmark's event source (a child process, driven over IPC): moves the followed
// messages through their statuses at a fixed rate exactly as another Herald instance would —
// update the message row and append its MessageEvent (one statement per batch), then publish a
// StatusChange on the account's Redis channel (`message-status:<accountId>`, the channel name
// and JSON payload of @graphql-yoga/redis-event-target under src/pubsub/pubsub.ts) — and records when
// each event was published.
import { Redis } from 'ioredis';
import pg from 'pg';
import { clock, STEPS, type PublishCommand, type PublisherReply } from './protocol.js';

const TICK_MS = 5;

async function publish(command: PublishCommand): Promise<PublisherReply> {
  const { messages, rate, seconds } = command;
  const total = Math.round(rate * seconds);
  if (total > messages.length * STEPS.length) throw new Error(`${total} events need more than ${messages.length} messages`);
  const db = new pg.Client({ connectionString: command.databaseUrl });
  await db.connect();
  const redis = new Redis(command.redisUrl, { maxRetriesPerRequest: 1 });
  const published: number[] = [];
  let lagMs = 0;
  try {
    const started = clock();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((clock() - started) / 1000) * rate) + 1);
      if (due > sent) {
        const ids: string[] = [];
        const statuses: string[] = [];
        const batch: { index: number; step: number }[] = [];
        for (let k = sent; k < due; k++) {
          const index = k % messages.length;
          const step = Math.floor(k / messages.length);
          ids.push(messages[index]!.id);
          statuses.push(STEPS[step]!);
          batch.push({ index, step });
        }
        await db.query(
          `WITH v(id, status) AS (SELECT * FROM unnest($1::uuid[], $2::"MessageStatus"[])),
                moved AS (UPDATE "Message" m SET status = v.status, "updatedAt" = now() FROM v WHERE m.id = v.id)
           INSERT INTO "MessageEvent" ("messageId", status, source) SELECT id, status, 'PROVIDER' FROM v`,
          [ids, statuses],
        );
        const pipeline = redis.pipeline();
        const at = clock();
        for (const { index, step } of batch) {
          const message = messages[index]!;
          pipeline.publish(`message-status:${message.accountId}`, JSON.stringify({ id: message.id, accountId: message.accountId, status: STEPS[step], batchId: null }));
          published.push(index, step, at);
        }
        await pipeline.exec();
        // How far behind its schedule the publisher itself was (the last event of the batch was due at…).
        lagMs = Math.max(lagMs, at - (started + ((due - 1) / rate) * 1000));
        sent = due;
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    return { type: 'published', published, seconds: (clock() - started) / 1000, lagMs };
  } finally {
    await db.end().catch(() => {});
    redis.disconnect();
  }
}

process.on('message', (command: PublishCommand) => {
  publish(command).then(
    (reply) => process.send!(reply, undefined, {}, () => process.exit(0)),
    (error: Error) => process.send!({ type: 'error', message: error.message } satisfies PublisherReply, undefined, {}, () => process.exit(1)),
  );
});
process.on('disconnect', () => process.exit(0));
