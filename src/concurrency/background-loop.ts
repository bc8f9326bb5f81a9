// The one way Herald runs work in the background: the dispatcher, the outgoing webhook worker,
// the reconciler and providers' own work (the simulator's report recovery) are each a loop of
// passes. A pass runs, then the loop waits `pollMs` (or less: a pass that says more work is
// waiting, or a wake-up, starts the next one at once). Passes never overlap; a failed pass is
// logged and the loop goes on; stop() waits for the pass that is running, so whatever it writes
// is written before the caller closes the database.
import type { Logger } from '../logging/logger.js';

export interface BackgroundLoopOptions {
  /** Names the loop in its log lines ("dispatcher pass failed"). */
  name: string;
  /** The wait between two passes when nothing asks for the next one sooner. */
  pollMs: number;
  /** One pass. Resolving `true` says more work is waiting: the next pass starts at once. */
  pass: () => Promise<boolean | void>;
  logger: Pick<Logger, 'error'>;
}

export interface BackgroundLoop {
  /** Starts the loop (its first pass at once); does nothing while it is running. */
  start(): void;
  /** No new pass starts; resolves once the running pass, if any, has finished. */
  stop(): Promise<void>;
  /** Runs the next pass now instead of after the poll interval (right after the running one). */
  wake(): void;
}

export function createBackgroundLoop(options: BackgroundLoopOptions): BackgroundLoop {
  // One run per start(); stop() ends it. A start() right after stop() begins a new run that
  // waits for the old one's last pass, so passes never overlap even across a restart.
  let run: { stopped: boolean; done: Promise<void> } | undefined;
  let endWait: (() => void) | undefined;
  // A wake-up that arrives during a pass must not be lost until the next poll.
  let wokenDuringPass = false;

  async function loop(self: { stopped: boolean }, previous: Promise<void> | undefined): Promise<void> {
    await previous;
    while (!self.stopped) {
      wokenDuringPass = false;
      let more = false;
      try {
        more = (await options.pass()) === true;
      } catch (error) {
        options.logger.error({ err: error, loop: options.name }, `${options.name} pass failed; next pass after the poll interval`);
      }
      if (self.stopped) break;
      if (more || wokenDuringPass) continue;
      await waitForPoll();
    }
  }

  function waitForPoll(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, options.pollMs);
      // A waiting loop never keeps the process alive (stop() is what ends it cleanly).
      timer.unref();
      function done() {
        clearTimeout(timer);
        endWait = undefined;
        resolve();
      }
      endWait = done;
    });
  }

  return {
    start() {
      if (run && !run.stopped) return;
      const self = { stopped: false, done: Promise.resolve() };
      self.done = loop(self, run?.done);
      run = self;
    },
    async stop() {
      if (!run) return;
      run.stopped = true;
      endWait?.();
      await run.done;
    },
    wake() {
      if (endWait) endWait();
      else wokenDuringPass = true;
    },
  };
}
