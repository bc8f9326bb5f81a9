import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadDefaultSensitiveMatcher, loadDefaultSensitiveTerms } from '../../src/services/default-sensitive-terms.js';
import { foldTerm } from '../../src/domain/sensitive/fold-text.js';
import { createSensitiveMatcher } from '../../src/domain/sensitive/sensitive-matcher.js';
import { findScreenedMatches, screenContent } from '../../src/domain/sensitive/screen-content.js';
import { parseTermList } from '../../src/domain/sensitive/term-list.js';

const matcher = createSensitiveMatcher([
  '赌博',
  '网络赌博',
  '代开发票',
  '冰毒',
  'gambling',
  'viagra',
  'ass',
  'free money',
  'casino',
  'AV女优',
]);

// Messages a gateway sends all day long; none may trip the built-in lists.
const ORDINARY_MESSAGES = [
  'Your verification code is 482913. It expires in 5 minutes. Do not share this code with anyone.',
  'Herald: 739201 is your login code. Never share your PIN or OTP with anyone, including our staff.',
  'Your parcel 1Z999AA10123456784 is out for delivery today between 2pm and 5pm.',
  'We could not deliver your parcel today; we will try again tomorrow. Reply STOP to opt out.',
  'Reminder: your dental appointment is on Tue 14 May at 09:30. Reply C to confirm or R to reschedule.',
  'Your table for 4 at Bella Napoli is booked for Friday 7:30pm. See you then!',
  'Class starts at 8am sharp on Monday; please bring your assignment and a calculator.',
  'Your assessment results are ready. Log in to the portal to view them.',
  'Flight CA981 to New York is boarding at gate E12. Please have your passport ready.',
  'Thanks for your order #10293! We have received your payment of $45.20.',
  'Your prescription is ready for pickup at our Main St pharmacy until 9pm.',
  'Your account password was changed. If this was not you, call us at 400-800-1234.',
  'Happy birthday, Anna! Enjoy 20% off your next visit this week.',
  'The school trip to the Science Museum has been moved to Thursday. Packed lunch required.',
  'Reminder: your car insurance renews on 01/06. No action is needed if your details are unchanged.',
  'Sunny with a high of 28°C today; stay hydrated and wear sunscreen.',
  'Your Uber is arriving in 3 minutes: white Toyota Camry, plate 7ABC123.',
  'Meeting moved to 3pm in room B-204. Slides are in the shared drive.',
  '【顺丰速运】您的快递已到达小区驿站，取件码 6-2-3015，请于今日18:00前领取。',
  '【招商银行】您的验证码为 583920，5分钟内有效，请勿泄露给他人。',
  '【京东】您的订单已发货，预计明天送达，请保持电话畅通。',
  '【中国移动】尊敬的客户，您本月话费账单已出，当前余额 36.50 元。',
  '【美团】您预订的海底捞火锅（万达店）已确认，周六晚 18:30，4 位。',
  '【人民医院】您已成功预约 5 月 20 日上午 9:00 心内科王医生门诊，请携带身份证和医保卡。',
  '【学校通知】家长您好，明天上午八点召开家长会，请准时参加。',
  '【滴滴出行】司机已接单，白色大众朗逸，车牌京A·12345，预计 3 分钟到达。',
  '【12306】您购买的 G102 次列车车票已出票，请于开车前 30 分钟到达车站检票。',
  '【国家电网】您的电费余额不足 20 元，请及时缴费，以免影响正常用电。',
  '【物业通知】本周六上午 9 点至 12 点停水检修，请提前储水，给您带来不便敬请谅解。',
  '【公司通知】发票已开具并发送至您的邮箱，如有疑问请联系财务部。',
  '【工商银行】您尾号 8821 的储蓄卡于 10:32 支出人民币 120.00 元，余额 3,456.78 元。',
  '【支付宝】您的花呗本月账单 1,230.00 元，还款日为 10 日，请按时还款。',
  '【携程】您预订的上海浦东香格里拉大酒店已确认，入住日期 6 月 1 日。',
  '【健身房】您的私教课程将于今晚 19:00 开始，请提前 10 分钟到场热身。',
];

describe('createSensitiveMatcher', () => {
  it('finds a listed term in plain text, in Chinese and in English', () => {
    expect(matcher.findTerms('这里有赌博活动')).toEqual(['赌博']);
    expect(matcher.findTerms('Cheap viagra here')).toEqual(['viagra']);
  });

  it('returns nothing for an empty text or an empty list', () => {
    expect(matcher.findTerms('')).toEqual([]);
    expect(matcher.findMatches('')).toEqual([]);
    expect(createSensitiveMatcher([]).findTerms('赌博 gambling')).toEqual([]);
    expect(createSensitiveMatcher(['', '   ', '...']).size).toBe(0);
  });

  it.each([
    ['upper and mixed case', 'GaMbLiNg tonight', 'gambling'],
    ['full-width letters', 'ＧＡＭＢＬＩＮＧ', 'gambling'],
    ['full-width punctuation between characters', '代，开，发，票', '代开发票'],
    ['spaced-out letters', 'g a m b l i n g', 'gambling'],
    ['hyphens between letters', 'v-i-a-g-r-a', 'viagra'],
    ['dots between Han characters', '赌.博', '赌博'],
    ['a space between Han characters', '赌 博', '赌博'],
    ['zero-width spaces', 'via\u200Bgra', 'viagra'],
    ['zero-width joiners and a BOM', '冰\u200D\uFEFF毒', '冰毒'],
    ['emoji between characters', '赌🎲博', '赌博'],
    ['accents', 'víágrà', 'viagra'],
    ['look-alike Cyrillic letters', 'vіаgrа', 'viagra'],
    ['mathematical bold letters', '𝐠𝐚𝐦𝐛𝐥𝐢𝐧𝐠', 'gambling'],
    ['Traditional characters', '網絡賭博', '网络赌博'],
    ['several evasions at once', 'Ｆ.Ｒ.Ｅ.Ｅ  m-o-n-e-y!!', 'free money'],
    ['a term of several words written without spaces', 'freemoney', 'free money'],
  ])('sees through %s', (_, text, term) => {
    expect(matcher.findTerms(text)).toContain(term);
  });

  it('finds a term whatever separators are put between its characters, at the offsets written', () => {
    const separator = fc.constantFrom(' ', '.', '-', '*', '\u200B', '\u3000', '，', '🎲', '_', '/');
    const term = fc.constantFrom('赌博', '网络赌博', '代开发票', 'gambling', 'viagra', 'casino');
    fc.assert(
      fc.property(term, fc.array(fc.array(separator, { maxLength: 3 }), { minLength: 12, maxLength: 12 }), (listed, gaps) => {
        const chars = [...listed];
        const written = chars.map((char, i) => (i === 0 ? char : gaps[i].join('') + char)).join('');
        const text = `前缀 ${written} suffix`;
        const match = matcher.findMatches(text).find((m) => m.term === listed);
        expect(match && text.slice(match.start, match.end)).toBe(written);
      }),
    );
  });

  it('reports the term as listed and the offsets of what was written', () => {
    const text = '快来 賭.博 吧';
    expect(matcher.findMatches(text)).toEqual([{ term: '赌博', start: 3, end: 6 }]);
    expect(text.slice(3, 6)).toBe('賭.博');
    const spaced = 'Try g a m b l i n g!';
    const [match] = matcher.findMatches(spaced);
    expect(spaced.slice(match.start, match.end)).toBe('g a m b l i n g');
  });

  it('maps offsets across astral characters', () => {
    const text = '😀😀 viagra';
    expect(matcher.findMatches(text)).toEqual([{ term: 'viagra', start: 5, end: 11 }]);
  });

  it('handles characters that fold to several letters, however many', () => {
    const text = `${'㎏'.repeat(5000)} viagra ﬁne`;
    expect(matcher.findMatches(text)).toEqual([{ term: 'viagra', start: 5001, end: 5007 }]);
    expect(createSensitiveMatcher(['fine']).findTerms('ﬁne')).toEqual(['fine']);
  });

  it('matches terms in astral CJK characters', () => {
    const m = createSensitiveMatcher(['𠮷野家']);
    expect(m.findMatches('去𠮷 野家吃饭')).toEqual([{ term: '𠮷野家', start: 1, end: 6 }]);
  });

  it('gives the same answers when one matcher screens many texts in turn', () => {
    const texts = ['a long message about nothing in particular, twice as long as the next', '赌博', 'class', 'ass'];
    const first = texts.map((text) => matcher.findMatches(text));
    const second = [...texts].reverse().map((text) => matcher.findMatches(text)).reverse();
    expect(second).toEqual(first);
  });

  it('reports overlapping terms, longer first when they start together, in order of appearance', () => {
    expect(matcher.findTerms('网络赌博')).toEqual(['网络赌博', '赌博']);
    expect(matcher.findTerms('赌博和网络赌博')).toEqual(['赌博', '网络赌博']);
    expect(createSensitiveMatcher(['甲乙', '甲乙丙', '乙丙', '丙']).findTerms('甲乙丙')).toEqual(['甲乙丙', '甲乙', '乙丙', '丙']);
  });

  it('reports each distinct term once in findTerms but every occurrence in findMatches', () => {
    expect(matcher.findTerms('赌博赌博 赌博')).toEqual(['赌博']);
    expect(matcher.findMatches('赌博赌博 赌博')).toHaveLength(3);
  });

  it('treats spellings that fold together as one term, reported as first listed', () => {
    const m = createSensitiveMatcher(['Viagra', 'VIAGRA', 'ｖｉａｇｒａ']);
    expect(m.size).toBe(1);
    expect(m.findTerms('viagra')).toEqual(['Viagra']);
  });

  describe('English word boundaries', () => {
    it.each(['class', 'assume', 'passage', 'bass guitar', 'Massachusetts', 'c l a s s', 'casinos'])(
      'does not find "ass" or "casino" inside %j',
      (text) => {
        expect(matcher.findTerms(text)).toEqual([]);
      },
    );

    it.each([
      ['a word on its own', 'what an ass', 'ass'],
      ['next to punctuation', '(ass)', 'ass'],
      ['next to digits', 'viagra100mg', 'viagra'],
      ['next to Chinese', '买viagra吗', 'viagra'],
      ['a spelled-out word after a normal one', 'play g a m b l i n g now', 'gambling'],
    ])('finds a term %s', (_, text, term) => {
      expect(matcher.findTerms(text)).toEqual([term]);
    });

    it('keeps digit runs whole for terms that end in digits', () => {
      const m = createSensitiveMatcher(['pk10']);
      expect(m.findTerms('北京pk10开奖')).toEqual(['pk10']);
      expect(m.findTerms('pk100')).toEqual([]);
    });

    it('checks the Latin side of a mixed term and not the Chinese side', () => {
      expect(matcher.findTerms('AV女优')).toEqual(['AV女优']);
      expect(matcher.findTerms('看AV女优们')).toEqual(['AV女优']);
      expect(matcher.findTerms('NAV女优')).toEqual([]);
    });
  });

  it('needs no word boundary in Chinese', () => {
    expect(matcher.findTerms('我们不搞网络赌博活动')).toEqual(['网络赌博', '赌博']);
  });
});

describe('screenContent', () => {
  it('reports the shared list and the account additions together, in order of appearance', () => {
    const words = screenContent('gambling 和 秒杀 都有', { matcher, accountAdditions: ['秒杀'] });
    expect(words).toEqual(['gambling', '秒杀']);
  });

  it('accepts additions as a prebuilt matcher', () => {
    const accountAdditions = createSensitiveMatcher(['flash sale']);
    expect(screenContent('FLASH-SALE today', { matcher, accountAdditions })).toEqual(['flash sale']);
  });

  it('never reports an exempted term, whatever its case or width', () => {
    const policy = { matcher, exemptions: new Set(['Casino', '赌博']) };
    expect(screenContent('ＣＡＳＩＮＯ night', policy)).toEqual([]);
    expect(screenContent('赌博', policy)).toEqual([]);
  });

  it('exempts exactly the term, not longer terms containing it', () => {
    expect(screenContent('网络赌博', { matcher, exemptions: ['赌博'] })).toEqual(['网络赌博']);
  });

  it('lets an exemption win over an addition of the same term', () => {
    expect(screenContent('秒杀', { matcher, accountAdditions: ['秒杀'], exemptions: ['秒杀'] })).toEqual([]);
  });

  it('reports a term found by both lists once', () => {
    expect(screenContent('Gambling', { matcher, accountAdditions: ['GAMBLING'] })).toEqual(['gambling']);
  });

  it('returns offsets for previews', () => {
    expect(findScreenedMatches('hi 冰毒', { matcher })).toEqual([{ term: '冰毒', start: 3, end: 5 }]);
  });

  it('returns nothing for an empty text', () => {
    expect(screenContent('', { matcher, accountAdditions: ['x'], exemptions: [] })).toEqual([]);
  });
});

describe('the built-in lists', () => {
  const defaults = loadDefaultSensitiveMatcher();

  it('load Chinese and English terms, without comments or blank lines', () => {
    const terms = loadDefaultSensitiveTerms();
    expect(terms.length).toBeGreaterThan(300);
    expect(terms).toContain('赌博');
    expect(terms).toContain('代开发票');
    expect(terms).toContain('online casino');
    expect(terms.some((term) => term.startsWith('#') || term.trim() !== term || term === '')).toBe(false);
    expect(defaults.size).toBe(new Set(terms.map(foldTerm)).size);
  });

  it('list every term once', () => {
    const keys = loadDefaultSensitiveTerms().map(foldTerm);
    expect(keys.filter((key, index) => keys.indexOf(key) !== index)).toEqual([]);
  });

  it.each(ORDINARY_MESSAGES)('let an ordinary message through: %s', (text) => {
    expect(defaults.findTerms(text)).toEqual([]);
  });

  it.each([
    ['【澳门赌场】首充送100%，真人荷官在线发牌', ['澳门赌场', '首充送', '真人荷官']],
    ['专业代开增值税发票，点数低', ['代开增值税发票']],
    ['Claim your prize now: bit.ly/x', ['claim your prize']],
    ['Cheap V.I.A.G.R.A, no doctor', ['viagra']],
  ])('catch spam: %s', (text, expected) => {
    const words = defaults.findTerms(text);
    for (const word of expected) expect(words.map(foldTerm)).toContain(foldTerm(word));
  });
});

describe('parseTermList', () => {
  it('skips comments and blank lines and trims terms', () => {
    expect(parseTermList('\uFEFF# header\n\n 赌博 \r\nfree money\n  # indented comment\nC#\n')).toEqual([
      '赌博',
      'free money',
      'C#',
    ]);
  });
});
