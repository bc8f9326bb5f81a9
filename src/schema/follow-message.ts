// One message followed for messageStatusChanged: its current state, then every transition, read
// from the message's event log whenever a change is announced. Reading the log (not the
// announcements) means nothing is lost or reordered if an announcement is missed or arrives out
// of order. Announcements can be missed: @graphql-yoga/redis-event-target sends Redis its
// SUBSCRIBE without waiting for it, so a change published in between reaches no one here, and a
// Redis reconnection loses what was published meanwhile. So the log is also read on a widening
// schedule while the message is not final: a missed change shows within a second or a few,
// and at worst every 30 s for a message whose report takes hours (one indexed read).
import { Repeater } from '@repeaterjs/repeater';
import { GraphQLError } from 'graphql';
import { isFinal, statusRank, type MessageStatus } from '../domain/status-machine.js';
import type { Context } from './context.js';
import { decodeId } from './global-id.js';

/** A status change as a subscriber sees it: the message, at the status of that change. */
export interface Transition {
  id: string;
  status: MessageStatus;
}

/** When the log is read again without an announcement, ms after the previous read; the last one repeats. */
export const CATCH_UP_MS = [250, 1_000, 4_000, 10_000, 30_000];

type FollowDeps = Pick<Context, 'pubsub' | 'store'> & {
  prisma: {
    message: { findFirst(args: { where: { id: string; accountId: string }; select: { id: true; status: true } }): Promise<{ id: string; status: string } | null> };
  };
};

/**
 * A Repeater rather than an async generator: a subscriber that leaves (graphql-ws `complete`)
 * calls return() while a next() waits for the next change, and a generator would only see that
 * return() once the message changes again, keeping its listener and its reads until then.
 */
export function followMessage(deps: FollowDeps, accountId: string, rawId: string): AsyncIterableIterator<Transition> {
  return new Repeater<Transition>(async (push, stop) => {
    const id = decodeId(rawId, 'Message', null);
    // Listen before reading the current state, so a change in between is not missed. Only this
    // message's changes are delivered here (not every change of the account).
    const changes = deps.pubsub.subscribeMessageStatus(accountId, id ?? rawId)[Symbol.asyncIterator]();
    let nextChange = changes.next();
    const stopped = stop.then(() => 'stop' as const);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const message = id && (await deps.prisma.message.findFirst({ where: { id, accountId }, select: { id: true, status: true } }));
      if (!message) throw new GraphQLError('message not found', { extensions: { code: 'NOT_FOUND' } });
      // From the start of the log, not from its last entry now: a change committed between the
      // status read above and a read of the log's end would sit below that end and never be
      // read (seen in the soak under load: watches stuck at SENT). Entries at or below the
      // current status are skipped below; a message's log is a handful of rows.
      let lastEventId = 0n;
      let current = message.status as MessageStatus;
      await push({ id: message.id, status: current });

      let catchUps = 0;
      const nextCatchUp = () => new Promise<'catch-up'>((resolve) => (timer = setTimeout(resolve, CATCH_UP_MS[Math.min(catchUps++, CATCH_UP_MS.length - 1)], 'catch-up')));
      let catchUpDue = nextCatchUp();
      while (!isFinal(current)) {
        const signal = await Promise.race([nextChange, catchUpDue, stopped]);
        if (signal === 'stop') return;
        if (signal === 'catch-up') catchUpDue = nextCatchUp();
        else {
          if (signal.done) return;
          nextChange = changes.next();
          if (signal.value.id !== message.id) continue;
        }
        const events = await deps.store.subscriptionReads.readLog(message.id, lastEventId);
        for (const event of events) {
          lastEventId = event.id;
          if (statusRank(event.status) > statusRank(current)) {
            current = event.status;
            await push({ id: message.id, status: current });
            if (isFinal(current)) break;
          }
        }
      }
    } finally {
      clearTimeout(timer);
      stop();
      await changes.return?.();
    }
  });
}
