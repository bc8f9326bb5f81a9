// What several scenarios share: a fresh PostgreSQL database with a SENDER key (bench/lib), a
// recipient list the simulator delivers, and accepting a batch through sendMessages.
import { graphql, SEND_MANY } from './graphql.js';

/** `+14152nnnnn7`: valid US numbers whose last four digits are none of the simulator's special ones. */
export const recipient = (i: number) => `+14152${String(i % 100_000).padStart(5, '0')}7`;

/** Accepts `count` messages in chunks of ≤ 10 000 (sendMessages' limit); returns their ids. */
export async function acceptMessages(baseUrl: string, key: string, count: number, body: string): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 10_000) {
    const size = Math.min(10_000, count - start);
    const answer = await graphql(baseUrl, key, SEND_MANY, { input: { recipients: Array.from({ length: size }, (_, i) => ({ to: recipient(start + i) })), body } }, 120_000);
    const result = answer.json?.data?.sendMessages;
    if (result?.__typename !== 'SendMessagesSuccess') throw new Error(`sendMessages failed (HTTP ${answer.status}): ${answer.body.slice(0, 500)}`);
    if (result.rejected.length > 0) throw new Error(`sendMessages rejected ${result.rejected.length} recipients, e.g. ${JSON.stringify(result.rejected[0])}`);
    ids.push(...(result.accepted as { id: string }[]).map((m) => m.id));
  }
  return ids;
}
