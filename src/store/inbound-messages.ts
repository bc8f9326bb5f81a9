// Replies from handsets as the webhook stores them: once per provider message, linked to the
// last message the account sent the number, with a STOP or START applied in the same transaction.
import type { PrismaClient } from '../db/database.js';
import type { KeywordAction } from '../domain/keywords.js';
import type { OptOutStore } from './opt-outs.js';

export interface NewInboundMessage {
  accountId: string;
  /** The sender, E.164 when it is a phone number. */
  from: string;
  /** The account's identity that received it. */
  to: string;
  body: string;
  provider: string;
  providerMessageId: string;
  receivedAt: Date;
  keyword: KeywordAction | null;
}

export interface InboundMessages {
  /**
   * Stores the reply and applies its STOP or START, in one transaction: a STOP is never stored
   * without being applied, nor applied twice when a provider retries (a retry inserts nothing
   * and so does nothing). Returns the new row's id, or undefined for a retry.
   */
  record(message: NewInboundMessage): Promise<{ id: string } | undefined>;
}

export function createInboundMessages(prisma: PrismaClient, optOuts: OptOutStore): InboundMessages {
  return {
    record(message) {
      const { accountId, from, keyword } = message;
      return prisma.$transaction(async (tx) => {
        const lastSent = await tx.message.findFirst({
          where: { accountId, to: from },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          select: { id: true },
        });
        const [row] = await tx.inboundMessage.createManyAndReturn({
          data: [{ ...message, inReplyToId: lastSent?.id ?? null }],
          skipDuplicates: true,
          select: { id: true },
        });
        if (!row) return undefined;
        if (keyword === 'STOP') await optOuts.add(accountId, from, 'KEYWORD', tx);
        // Opting in again removes the number whatever added it: the handset owner asked.
        if (keyword === 'START') await optOuts.remove(accountId, from, tx);
        return row;
      });
    },
  };
}
