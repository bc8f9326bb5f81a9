// Messages exchanged (over IPC) between the fan-out scenario and its child processes.

/** The statuses each followed message moves through, in order (it starts SCHEDULED). */
export const STEPS = ['QUEUED', 'SENDING', 'SENT', 'DELIVERED'] as const;
export type Step = (typeof STEPS)[number];

export interface Subscriber {
  /** Index of the followed message in the scenario's message list. */
  index: number;
  messageId: string;
  accountId: string;
  /** API key of the message's account (Herald mode). */
  key: string;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const clock = () => performance.timeOrigin + performance.now();

export type WorkerCommand =
  | { type: 'connect'; mode: 'herald' | 'bare'; url: string; subscribers: Subscriber[]; concurrency: number }
  | { type: 'count' }
  | { type: 'finish' };

export type WorkerReply =
  | { type: 'connected'; ok: number; failed: number; firstError?: string; seconds: number }
  | { type: 'count'; received: number; errors: number; firstError?: string }
  /** receipts: flat [index, stepIndex, receivedAt, ...]. */
  | { type: 'receipts'; receipts: number[]; errors: number; firstError?: string };

export interface PublishCommand {
  type: 'publish';
  databaseUrl: string;
  redisUrl: string;
  /** The followed messages, in event order (event k concerns message k % length). */
  messages: { id: string; accountId: string }[];
  rate: number;
  seconds: number;
}

export type PublisherReply =
  /** published: flat [index, stepIndex, publishedAt, ...]. */
  | { type: 'published'; published: number[]; seconds: number; lagMs: number }
  | { type: 'error'; message: string };
