import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { classifyKeyword, keywordWords, normalizeKeyword } from '../../src/domain/keywords.js';
import { parseSenderIdentity } from '../../src/domain/sender-identity.js';

describe('classifyKeyword', () => {
  it.each(keywordWords.STOP)('reads %s as STOP', (word) => {
    expect(classifyKeyword(word)).toBe('STOP');
  });

  it.each(keywordWords.START)('reads %s as START', (word) => {
    expect(classifyKeyword(word)).toBe('START');
  });

  it('reads HELP as HELP', () => {
    expect(classifyKeyword('HELP')).toBe('HELP');
  });

  it.each([
    ['stop', 'STOP'],
    [' stop ', 'STOP'],
    ['\tStOp\n', 'STOP'],
    ['ＳＴＯＰ', 'STOP'],
    ['\u3000ｓｔｏｐ\u3000', 'STOP'],
    ['Stop.', 'STOP'],
    ['STOP!', 'STOP'],
    [' 退订 ', 'STOP'],
    ['退订。', 'STOP'],
    ['取消', 'STOP'],
    ['td', 'STOP'],
    ['Ｔ', 'STOP'],
    ['unstop', 'START'],
    ['Yes', 'START'],
    ['help?', 'HELP'],
    ['ＨＥＬＰ', 'HELP'],
  ])('is case-insensitive, trimmed and full-width tolerant: %j → %s', (body, action) => {
    expect(classifyKeyword(body)).toBe(action);
  });

  it.each(['', '   ', 'please stop', "don't stop", 'STOP ALL', 'T-shirt', 'stopp', 'yes please', '退订吧', 'HELP ME', 'hello'])(
    'ignores a body that is not a keyword alone: %j',
    (body) => {
      expect(classifyKeyword(body)).toBeUndefined();
    },
  );

  it('normalises without touching inner characters', () => {
    expect(normalizeKeyword('  ｕｎ ｓｕｂ  ')).toBe('UN SUB');
  });
});

describe('parseSenderIdentity', () => {
  it('normalises numbers to E.164', () => {
    expect(parseSenderIdentity(' +1 (415) 555-0100 ')).toEqual({ kind: 'NUMBER', value: '+14155550100' });
    expect(parseSenderIdentity('138 0013 8000', 'CN')).toEqual({ kind: 'NUMBER', value: '+8613800138000' });
  });

  it('accepts alphanumeric sender ids of 3 to 11 letters, digits or spaces with a letter', () => {
    expect(parseSenderIdentity('HERALD')).toEqual({ kind: 'ALPHANUMERIC', value: 'HERALD' });
    expect(parseSenderIdentity(' Acme Shop1 ')).toEqual({ kind: 'ALPHANUMERIC', value: 'Acme Shop1' });
    expect(parseSenderIdentity('AB1')).toEqual({ kind: 'ALPHANUMERIC', value: 'AB1' });
  });

  it.each(['AB', 'TWELVECHARSX', 'Acme-Shop', 'Héraldo', '12345', '+1 555', ''])('refuses %j with a ValidationError on the field', (value) => {
    const result = parseSenderIdentity(value);
    expect(result).toBeInstanceOf(ValidationError);
    expect((result as ValidationError).issues[0]!.path).toEqual(['value']);
  });
});
