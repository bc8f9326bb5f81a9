// The background loop every delivery loop runs on: passes never overlap, a wake-up or a pass
// that reports more work starts the next pass at once, a failed pass is logged and the loop goes
// on, and stop() returns only once the running pass has finished. Fake timers: no test sleeps.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBackgroundLoop, type BackgroundLoop } from '../../src/concurrency/background-loop.js';

const POLL_MS = 1_000;

/** A pass the test finishes by hand: `release()` ends the running one. */
function controlledPass() {
  let passes = 0;
  let running = 0;
  let maxRunning = 0;
  let release: (() => void) | undefined;
  let more = false;
  return {
    pass: () => {
      passes++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<boolean>((resolve) => {
        release = () => {
          running--;
          release = undefined;
          resolve(more);
        };
      });
    },
    get passes() {
      return passes;
    },
    get running() {
      return running;
    },
    get maxRunning() {
      return maxRunning;
    },
    release: () => release?.(),
    moreWaiting: (value: boolean) => (more = value),
  };
}

const logger = () => ({ error: vi.fn() });

describe('background loop', () => {
  let loop: BackgroundLoop | undefined;

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(async () => {
    const stopping = loop?.stop();
    await vi.runAllTimersAsync();
    await stopping;
    loop = undefined;
    vi.useRealTimers();
  });

  it('runs the first pass at start, then one pass per poll interval', async () => {
    const pass = vi.fn(async () => {});
    loop = createBackgroundLoop({ name: 'test', pollMs: POLL_MS, pass, logger: logger() });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(pass).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(POLL_MS - 1);
    expect(pass).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pass).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(3 * POLL_MS);
    expect(pass).toHaveBeenCalledTimes(5);
  });

  it('starts the next pass at once when a pass says more work is waiting', async () => {
    let calls = 0;
    const pass = vi.fn(async () => ++calls < 3);
    loop = createBackgroundLoop({ name: 'test', pollMs: POLL_MS, pass, logger: logger() });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(pass).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(pass).toHaveBeenCalledTimes(4);
  });

  it('wake() runs the next pass now; a wake-up during a pass runs another right after it', async () => {
    const control = controlledPass();
    loop = createBackgroundLoop({ name: 'test', pollMs: POLL_MS, pass: control.pass, logger: logger() });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    control.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(control.passes).toBe(1);

    loop.wake(); // while waiting for the poll
    await vi.advanceTimersByTimeAsync(0);
    expect(control.passes).toBe(2);

    loop.wake(); // during the pass: not lost, and not a second pass at the same time
    control.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(control.passes).toBe(3);
    expect(control.maxRunning).toBe(1);
    control.release();
    await vi.advanceTimersByTimeAsync(POLL_MS - 1);
    expect(control.passes).toBe(3);
  });

  it('logs a failed pass with the loop name and goes on after the poll interval', async () => {
    const log = logger();
    let calls = 0;
    const pass = vi.fn(async () => {
      if (++calls === 1) throw new Error('database unreachable');
    });
    loop = createBackgroundLoop({ name: 'reconciler', pollMs: POLL_MS, pass, logger: log });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(log.error).toHaveBeenCalledTimes(1);
    expect(log.error).toHaveBeenCalledWith(
      expect.objectContaining({ err: expect.objectContaining({ message: 'database unreachable' }), loop: 'reconciler' }),
      expect.stringContaining('reconciler pass failed'),
    );
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(pass).toHaveBeenCalledTimes(2);
    expect(log.error).toHaveBeenCalledTimes(1);
  });

  it('stop() waits for the running pass, and no pass starts after it', async () => {
    const control = controlledPass();
    loop = createBackgroundLoop({ name: 'test', pollMs: POLL_MS, pass: control.pass, logger: logger() });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(10 * POLL_MS);
    expect(stopped).toBe(false);
    control.release();
    await stopping;
    expect(control.running).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * POLL_MS);
    expect(control.passes).toBe(1);
  });

  it('stop() while waiting for the poll returns at once; stop() before start() and twice are harmless', async () => {
    const pass = vi.fn(async () => {});
    loop = createBackgroundLoop({ name: 'test', pollMs: 60 * POLL_MS, pass, logger: logger() });
    await loop.stop();
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    await loop.stop();
    await loop.stop();
    expect(pass).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('start() is idempotent, and a start() right after stop() waits for the old pass before its first', async () => {
    const control = controlledPass();
    loop = createBackgroundLoop({ name: 'test', pollMs: POLL_MS, pass: control.pass, logger: logger() });
    loop.start();
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(control.passes).toBe(1);

    const stopping = loop.stop();
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(control.passes).toBe(1); // the old pass is still running
    control.release();
    await stopping;
    await vi.advanceTimersByTimeAsync(0);
    expect(control.passes).toBe(2);
    expect(control.maxRunning).toBe(1);
    control.release();
  });
});
