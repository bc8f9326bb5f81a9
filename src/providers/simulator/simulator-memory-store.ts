// What the simulator remembers of its submissions (SimulatorStore), and the in-memory store it
// uses by default. Herald gives it one in its database instead (store/simulator-submissions.ts).
import type { SimulatorStatusWord } from './simulator-payload.js';

/** What the simulator remembers of one accepted submission. */
export interface StoredSubmission {
  reference: string;
  providerMessageId: string;
  /** The final report this submission will get (delivered, undelivered, …). */
  outcome: SimulatorStatusWord;
  acceptedAt: Date;
  reportDueAt: Date;
  reportedAt: Date | null;
}

/**
 * The simulator's memory, as a remote provider's database. In memory by default; Herald gives
 * it a database-backed store so that dedup, `lookup` and unsent reports survive a crash of the
 * process that submitted, and are shared by every instance.
 */
export interface SimulatorStore {
  /** Stores a new submission, or returns the one already stored under its reference. */
  accept(submission: StoredSubmission): Promise<StoredSubmission>;
  find(reference: string): Promise<StoredSubmission | undefined>;
  markReported(reference: string, at: Date): Promise<void>;
  /**
   * Claims unreported submissions whose report is overdue since before `cutoff` (their
   * submitting process died) and pushes their due time to `leaseUntil`, so that one process
   * sends each, once.
   */
  claimOverdue(cutoff: Date, leaseUntil: Date, limit: number): Promise<StoredSubmission[]>;
}

export class MemorySimulatorStore implements SimulatorStore {
  private readonly submissions = new Map<string, StoredSubmission>();

  constructor(private readonly maxRemembered = 100_000) {}

  async accept(submission: StoredSubmission): Promise<StoredSubmission> {
    const known = this.submissions.get(submission.reference);
    if (known) return known;
    this.submissions.set(submission.reference, submission);
    // Oldest forgotten first, so a long-running process does not grow without bound.
    for (const reference of this.submissions.keys()) {
      if (this.submissions.size <= this.maxRemembered) break;
      this.submissions.delete(reference);
    }
    return submission;
  }

  async find(reference: string): Promise<StoredSubmission | undefined> {
    return this.submissions.get(reference);
  }

  async markReported(reference: string, at: Date): Promise<void> {
    const known = this.submissions.get(reference);
    if (known) known.reportedAt = at;
  }

  async claimOverdue(cutoff: Date, leaseUntil: Date, limit: number): Promise<StoredSubmission[]> {
    const claimed: StoredSubmission[] = [];
    for (const submission of this.submissions.values()) {
      if (claimed.length >= limit) break;
      if (!submission.reportedAt && submission.reportDueAt < cutoff) {
        submission.reportDueAt = leaseUntil;
        claimed.push(submission);
      }
    }
    return claimed;
  }
}
