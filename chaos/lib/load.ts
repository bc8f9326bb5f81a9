// Senders posting sendMessage in a loop while a scenario breaks something underneath: every
// answer is classified (accepted with its id, clean error, error leaking internals, no answer).
import { graphql, leaksInternals, SEND, sentId } from './graphql.js';
import { recipient } from './herald.js';

export interface SendOutcome {
  startedAt: number;
  answeredAt: number;
  kind: 'accepted' | 'clean-error' | 'leaky-error' | 'no-answer';
  status: number;
  id?: string;
  detail?: string;
}

export interface SendLoad {
  outcomes: SendOutcome[];
  accepted(): string[];
  /** Stops the senders; resolves when every request in flight has its answer. */
  stop(): Promise<void>;
}

export function startSendLoad(baseUrl: string | (() => string), key: string, options: { senders: number; pauseMs?: number; tag: string }): SendLoad {
  const outcomes: SendOutcome[] = [];
  let running = true;
  let n = 0;
  const urlOf = typeof baseUrl === 'string' ? () => baseUrl : baseUrl;
  const sender = async () => {
    while (running) {
      const i = n++;
      const startedAt = Date.now();
      const answer = await graphql(urlOf(), key, SEND, { input: { to: recipient(i), body: `${options.tag} ${i}` } }, 20_000);
      const id = sentId(answer);
      const kind: SendOutcome['kind'] = id ? 'accepted' : answer.status === 0 ? 'no-answer' : leaksInternals(answer.body) ? 'leaky-error' : 'clean-error';
      outcomes.push({ startedAt, answeredAt: Date.now(), kind, status: answer.status, id, detail: id ? undefined : answer.body.slice(0, 300) });
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };
  const senders = Array.from({ length: options.senders }, sender);
  return {
    outcomes,
    accepted: () => outcomes.filter((o) => o.id).map((o) => o.id!),
    async stop() {
      running = false;
      await Promise.all(senders);
    },
  };
}
