import { describe, expect, it } from 'vitest';
import { oneAtATime } from '../../src/concurrency/one-at-a-time.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('oneAtATime', () => {
  it('runs work for one key one at a time, in arrival order, and work for other keys alongside', async () => {
    const run = oneAtATime();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const work = (name: string) => async () => {
      running++;
      most = Math.max(most, running);
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([run('a', work('a1')), run('a', work('a2')), run('b', work('b1')), run('a', work('a3'))]);
    expect(results).toEqual(['a1', 'a2', 'b1', 'a3']);
    const ofA = log.filter((line) => line.endsWith('a1') || line.endsWith('a2') || line.endsWith('a3'));
    expect(ofA).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    expect(most).toBe(2); // a1 and b1 together
  });

  it('goes on after a failure, which reaches only its own caller', async () => {
    const run = oneAtATime();
    const failed = run('a', async () => {
      await tick();
      throw new Error('boom');
    });
    const next = run('a', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });

  it('starts the next only after the earlier settled', async () => {
    const run = oneAtATime();
    let release!: () => void;
    const first = run('k', () => new Promise<void>((resolve) => (release = resolve)));
    let secondStarted = false;
    const second = run('k', async () => void (secondStarted = true));
    await tick();
    expect(secondStarted).toBe(false);
    release();
    await Promise.all([first, second]);
    expect(secondStarted).toBe(true);
  });
});
