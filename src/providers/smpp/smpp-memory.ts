// What this process remembers of its submissions, in memory and bounded: which SMSC message id
// each part of a Herald message got, so that
//  - a resubmission of the same Herald message (after a timeout whose answer came late, or a
//    multi-part message cut short) sends only the parts the SMSC has not acknowledged;
//  - a receipt for any part maps to the message (its first part's id is the providerMessageId).
// A receipt for a part decides the message's status as follows (kept simple on purpose):
//  - a failed part (UNDELIV, EXPIRED, REJECTD, DELETED) fails the whole message at once;
//  - DELIVERED is reported once every part has reported DELIVRD;
//  - non-final words (ENROUTE, ACCEPTD, UNKNOWN) are reported for the first part only.
// After a restart the memory is empty: receipts then go to Herald under their own message id,
// which matches single-part messages and the first part of long ones.

import { isFinal, type MessageStatus } from '../../domain/status-machine.js';
import { messageIdKeys } from './smpp-receipt.js';

interface Submission {
  reference: string;
  /** The SMSC's message id per part, once acknowledged. */
  partIds: (string | undefined)[];
  delivered: Set<number>;
}

export interface PartOf {
  reference: string;
  /** The first part's id: the message's providerMessageId. Undefined while part 1 is unacknowledged. */
  providerMessageId: string | undefined;
  index: number;
  total: number;
}

export class SmppMemory {
  private readonly submissions = new Map<string, Submission>();
  private readonly byMessageId = new Map<string, { reference: string; index: number }>();

  constructor(private readonly maxRemembered = 100_000) {}

  /** The part ids already acknowledged for a message split into `total` parts (a different split starts over). */
  acknowledgedParts(reference: string, total: number): (string | undefined)[] {
    const known = this.submissions.get(reference);
    if (known && known.partIds.length === total) return [...known.partIds];
    return new Array<string | undefined>(total).fill(undefined);
  }

  /** The providerMessageId of a message whose every part the SMSC acknowledged. */
  accepted(reference: string): string | undefined {
    const known = this.submissions.get(reference);
    if (!known || known.partIds.some((id) => id === undefined)) return undefined;
    return known.partIds[0];
  }

  recordPart(reference: string, total: number, index: number, messageId: string): void {
    let submission = this.submissions.get(reference);
    if (!submission || submission.partIds.length !== total) {
      if (submission) this.forget(reference);
      submission = { reference, partIds: new Array<string | undefined>(total).fill(undefined), delivered: new Set() };
      this.submissions.set(reference, submission);
      this.evict();
    }
    submission.partIds[index] = messageId;
    for (const key of messageIdKeys(messageId)) this.byMessageId.set(key, { reference, index });
  }

  /** Which message and part an SMSC message id (as a receipt spells it) belongs to. */
  find(messageId: string): PartOf | undefined {
    for (const key of messageIdKeys(messageId)) {
      const hit = this.byMessageId.get(key);
      const submission = hit && this.submissions.get(hit.reference);
      if (hit && submission) {
        return { reference: hit.reference, providerMessageId: submission.partIds[0], index: hit.index, total: submission.partIds.length };
      }
    }
    return undefined;
  }

  /** Whether a part's receipt is to be reported for its message now (see the rules above). */
  shouldReport(part: PartOf, status: MessageStatus): boolean {
    if (part.total === 1) return true;
    const submission = this.submissions.get(part.reference);
    if (!submission) return true;
    if (status === 'DELIVERED') {
      submission.delivered.add(part.index);
      return submission.delivered.size === part.total;
    }
    return isFinal(status) || part.index === 0;
  }

  private evict(): void {
    while (this.submissions.size > this.maxRemembered) {
      const oldest = this.submissions.keys().next().value;
      if (oldest === undefined) return;
      this.forget(oldest);
    }
  }

  private forget(reference: string): void {
    const submission = this.submissions.get(reference);
    this.submissions.delete(reference);
    for (const id of submission?.partIds ?? []) {
      if (id === undefined) continue;
      for (const key of messageIdKeys(id)) {
        if (this.byMessageId.get(key)?.reference === reference) this.byMessageId.delete(key);
      }
    }
  }
}
