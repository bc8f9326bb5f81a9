// Request ids and the log context: what an incoming id may be, and that the logger writes the
// context's ids once per line, scrubbed like everything else.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { requestIdFrom, withLogContext } from '../../src/logging/log-context.js';

describe('requestIdFrom', () => {
  it('keeps a plain incoming id and replaces a missing, long or unsafe one with a UUID', () => {
    expect(requestIdFrom('abc-123_DEF.4:5')).toBe('abc-123_DEF.4:5');
    expect(requestIdFrom(['first-id', 'second'])).toBe('first-id');
    for (const bad of [undefined, null, '', 'x'.repeat(129), 'line\nbreak', 'quote"', 'sp ace']) {
      expect(requestIdFrom(bad)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});

describe('log context', () => {
  function capture() {
    const lines: string[] = [];
    const logger = createLogger({ logLevel: 'info' }, { write: (line: string) => void lines.push(line) });
    return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it('adds the ids of the current context to every line, nested contexts merged, and nothing outside', async () => {
    const { logger, parsed } = capture();
    await withLogContext({ dispatchRound: 'r1' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await withLogContext({ messageId: 'm1' }, async () => logger.info('inside'));
      logger.info('round only');
    });
    logger.info('outside');
    expect(parsed().map(({ msg, dispatchRound, messageId }) => ({ msg, dispatchRound, messageId }))).toEqual([
      { msg: 'inside', dispatchRound: 'r1', messageId: 'm1' },
      { msg: 'round only', dispatchRound: 'r1', messageId: undefined },
      { msg: 'outside', dispatchRound: undefined, messageId: undefined },
    ]);
  });

  it('writes an id a child logger already binds once, and still scrubs secrets', () => {
    const { logger, lines } = capture();
    withLogContext({ requestId: 'req-1' }, () => logger.child({ requestId: 'req-1' }).info({ header: 'Bearer hk_abcdefghij_' + 'A'.repeat(43) }, 'call'));
    expect(lines[0].match(/"requestId"/g)).toHaveLength(1);
    expect(lines[0]).not.toContain('A'.repeat(43));
  });
});
