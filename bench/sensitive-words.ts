// Sensitive-word screening cost: build a matcher of 10 000 terms (the built-in lists topped up
// with generated Chinese and Latin terms), screen 10 000 realistic SMS bodies, and compare with
// the naive approaches in the same run: a String.includes loop over every term, and one regex
// per term (on a sample: it is slow). The naive ones see only lower-cased text and catch none
// of the evasions, so they are a lower bound on what a naive screen would cost.
// Usage:
//   node --import tsx bench/sensitive-words.ts [--terms N] [--messages N] [--regex-messages N]
import { parseArgs } from 'node:util';
import { loadDefaultSensitiveTerms } from '../src/services/default-sensitive-terms.js';
import { foldTerm } from '../src/domain/sensitive/fold-text.js';
import { createSensitiveMatcher, type SensitiveMatcher } from '../src/domain/sensitive/sensitive-matcher.js';

const { values } = parseArgs({
  options: {
    terms: { type: 'string', default: '10000' },
    messages: { type: 'string', default: '10000' },
    'regex-messages': { type: 'string', default: '500' },
  },
});
const termCount = Number(values.terms);
const messageCount = Number(values.messages);
const regexMessageCount = Math.min(Number(values['regex-messages']), messageCount);

// Deterministic, so two runs screen the same data.
let seed = 0x5eed;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));

const HANZI = '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理';
const SYLLABLES = ['ka', 'lo', 'mi', 'zu', 'ter', 'pra', 'vin', 'gol', 'sha', 'den', 'rix', 'bo', 'quo', 'nel', 'sta', 'fi', 'dra', 'mon', 'pex', 'tul'];

/** The built-in terms, topped up with generated ones until `count` distinct (after folding). */
function generateTerms(count: number): string[] {
  const terms = loadDefaultSensitiveTerms().slice(0, count);
  const keys = new Set(terms.map(foldTerm));
  while (terms.length < count) {
    let term = '';
    if (random() < 0.5) {
      for (let i = between(2, 4); i > 0; i--) term += pick([...HANZI]);
    } else {
      const word = () => Array.from({ length: between(2, 4) }, () => pick(SYLLABLES)).join('');
      term = random() < 0.3 ? `${word()} ${word()}` : word();
    }
    if (keys.has(foldTerm(term))) continue;
    keys.add(foldTerm(term));
    terms.push(term);
  }
  return terms;
}

const EN_TEMPLATES = [
  'Your verification code is {code}. It expires in 5 minutes. Do not share this code with anyone, including our staff.',
  'Hi {name}, your parcel {code} is out for delivery today between 2pm and 5pm. Track it at https://trk.example.com/{code}',
  'Reminder: your appointment with Dr. {name} is on {date} at 09:30. Reply C to confirm or R to reschedule. Reply STOP to opt out.',
  'Thanks for your order #{code}, {name}! We have received your payment of ${amount}. Estimated delivery: {date}.',
  '{name}, your table for 4 is booked for Friday 7:30pm. Free parking after 6pm. See you then!',
  'Your account password was changed on {date}. If this was not you, call us at 400-800-1234 immediately.',
];
const ZH_TEMPLATES = [
  '【顺丰速运】{name}您好，您的快递已到达小区驿站，取件码 {code}，请于今日18:00前领取，逾期将退回。',
  '【招商银行】您的验证码为 {code}，5分钟内有效，请勿泄露给他人。如非本人操作请致电95555。',
  '【人民医院】{name}您好，您已成功预约 {date} 上午 9:00 心内科门诊，请携带身份证和医保卡按时就诊。',
  '【京东】您的订单 {code} 已发货，预计 {date} 送达，金额 {amount} 元，请保持电话畅通。退订回T',
  '【物业通知】尊敬的业主{name}，本周六上午 9 点至 12 点停水检修，请提前储水，给您带来不便敬请谅解。',
];
const NAMES = ['Anna', 'Wang Wei', 'Li Na', 'Carlos', 'Zhang San', 'Priya', '王先生', '李女士', '陈同学'];

function generateMessages(count: number, terms: readonly string[]): string[] {
  const messages: string[] = [];
  for (let i = 0; i < count; i++) {
    const templates = random() < 0.5 ? EN_TEMPLATES : ZH_TEMPLATES;
    // About a third are two sentences long, so bodies span the usual 50–300 characters.
    let text = random() < 0.35 ? `${pick(templates)} ${pick(templates)}` : pick(templates);
    text = text
      .replaceAll('{name}', pick(NAMES))
      .replaceAll('{code}', String(between(100000, 999999)))
      .replaceAll('{date}', `${between(1, 12)}/${between(1, 28)}`)
      .replaceAll('{amount}', (random() * 500).toFixed(2));
    // One message in twenty carries a listed term, so the reporting path is exercised too.
    if (random() < 0.05) text = `${text} ${pick(terms)}`;
    messages.push(text);
  }
  return messages;
}

function percentile(sortedNs: Float64Array, p: number): number {
  return sortedNs[Math.min(sortedNs.length - 1, Math.floor((p / 100) * sortedNs.length))];
}

function timeEach(messages: readonly string[], screen: (text: string) => unknown): { p50: number; p99: number; mean: number } {
  for (const text of messages.slice(0, 200)) screen(text); // warm up the JIT
  const samples = new Float64Array(messages.length);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const started = process.hrtime.bigint();
    screen(messages[i]);
    const ns = Number(process.hrtime.bigint() - started);
    samples[i] = ns;
    total += ns;
  }
  samples.sort();
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), mean: total / messages.length };
}

function timeBuild(terms: readonly string[], runs: number): { ms: number; minMs: number; matcher: SensitiveMatcher } {
  let matcher = createSensitiveMatcher(terms);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    matcher = createSensitiveMatcher(terms);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], minMs: times[0], matcher };
}

const format = (ns: number): string => (ns >= 1_000_000 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1000).toFixed(2)} µs`);
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const terms = generateTerms(termCount);
const messages = generateMessages(messageCount, terms);
const lengths = messages.map((m) => m.length).sort((a, b) => a - b);
const averageLength = lengths.reduce((sum, n) => sum + n, 0) / lengths.length;

const defaultBuild = timeBuild(loadDefaultSensitiveTerms(), 20);
const heapBefore = process.memoryUsage().heapUsed;
const build = timeBuild(terms, 10);
const { matcher } = build;
const heapAfter = process.memoryUsage().heapUsed;

const lowerTerms = terms.map((term) => term.toLowerCase());
const regexes = terms.map((term) => new RegExp(escapeRegExp(term), 'i'));

let flagged = 0;
const automaton = timeEach(messages, (text) => (flagged += matcher.findTerms(text).length > 0 ? 1 : 0));
const includesLoop = timeEach(messages, (text) => {
  const lower = text.toLowerCase();
  const found: string[] = [];
  for (let i = 0; i < lowerTerms.length; i++) if (lower.includes(lowerTerms[i])) found.push(terms[i]);
  return found;
});
const regexLoop = timeEach(messages.slice(0, regexMessageCount), (text) => regexes.filter((re) => re.test(text)));

console.log(`terms: ${terms.length} (${matcher.size} distinct after folding); messages: ${messages.length}, ${lengths[0]}–${lengths[lengths.length - 1]} chars (mean ${averageLength.toFixed(0)}); ${flagged} flagged`);
console.log(`build, built-in lists (${defaultBuild.matcher.size} terms): ${defaultBuild.ms.toFixed(2)} ms median, ${defaultBuild.minMs.toFixed(2)} ms best`);
console.log(`build, ${terms.length} terms: ${build.ms.toFixed(2)} ms median, ${build.minMs.toFixed(2)} ms best (heap after one build ≈ ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB, rough)`);
console.log('per message             p50         p99        mean   vs Aho–Corasick (p50)');
const row = (name: string, t: { p50: number; p99: number; mean: number }) =>
  console.log(
    `${name.padEnd(20)}${format(t.p50).padStart(10)}${format(t.p99).padStart(12)}${format(t.mean).padStart(12)}   ×${(t.p50 / automaton.p50).toFixed(0)}`,
  );
row('Aho–Corasick', automaton);
console.log(`${''.padEnd(20)}${`(${(automaton.mean / averageLength).toFixed(0)} ns a character on average)`.padStart(34)}`);
row('includes loop', includesLoop);
row(`regex per term (${regexMessageCount})`, regexLoop);
