import { SIMPLIFIED_BY_TRADITIONAL } from './traditional-chinese.js';

// Folding turns one code point of text into the characters the matcher compares, so that the
// usual evasions of a word filter collapse onto the listed term:
// - NFKD compatibility decomposition: full-width ＡＢＣ/０１２, half-width katakana, circled ①,
//   math alphanumerics 𝐠𝐚𝐦𝐛𝐥𝐞, ligatures ﬁ, CJK compatibility ideographs and Kangxi radicals;
// - lower case, then combining marks dropped, so "víagra" is "viagra";
// - a few Cyrillic and Greek letters that look exactly like Latin ones (раураl), the commonest
//   trick NFKD leaves alone;
// - Traditional and variant Chinese characters to Simplified (賭博 → 赌博);
// - everything that is not a letter or a digit (spaces, punctuation, symbols, emoji, zero-width
//   and other format characters) becomes nothing: a separator the matcher skips, which is what
//   makes "g a m b l i n g", "赌.博", "v-i-a-g-r-a" and "赌\u200B博" look like the plain term.
// Terms are folded with the same function, so whatever folding does, a term still finds itself.

// How a folded character behaves at the edge of a match (see `sensitive-matcher.ts`).
/** Letter of a script written with spaces between words: a match must not cut a word of these. */
export const LETTER = 1;
/** A digit or other number character, after folding. A run of digits is a "word" too. */
export const DIGIT = 2;
/** Han, kana, Hangul, Thai and other scripts written without spaces: no word boundaries. */
export const UNSPACED = 3;
export type CharClass = typeof LETTER | typeof DIGIT | typeof UNSPACED;

// Lower-case Cyrillic, Greek and IPA letters whose lower or upper case looks like a Latin letter
// (text is lower-cased first, so "САSINO" arrives here as "саsino"). Only these few: a full
// confusables table (Unicode TR39) would fold real Russian or Greek words onto English terms.
const LOOKALIKES = new Map<string, string>(
  [
    ...['аa', 'вb', 'еe', 'іi', 'јj', 'кk', 'мm', 'нh', 'оo', 'рp', 'сc', 'тt', 'уy', 'хx', 'ѕs', 'һh', 'ԁd', 'ԛq', 'ԝw'],
    ...['αa', 'εe', 'ζz', 'ιi', 'κk', 'οo', 'ρp', 'τt', 'υy', 'χx'],
    ...['ɡg', 'ıi'],
  ].map((pair) => [pair[0], pair[1]]),
);

const IS_KEPT = /[\p{L}\p{N}]/u;
const IS_DIGIT = /\p{N}/u;
const IS_UNSPACED =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}\p{Script=Yi}]/u;

/** Folds one code point to the characters the matcher compares; "" for a separator. */
export function foldCodePoint(codePoint: number): string {
  if (codePoint < 0x10000) {
    const cached = bmpCache[codePoint];
    if (cached !== undefined) return cached;
    return (bmpCache[codePoint] = computeFold(codePoint));
  }
  // Astral code points are mostly emoji (separators) and rare; not worth a cache that anyone
  // sending every code point could grow without bound.
  return computeFold(codePoint);
}

/** `foldUnit` result: the character folds to nothing. */
export const FOLDS_TO_NOTHING = -1;
/** `foldUnit` result: the character folds to several units (or is a surrogate); use foldCodePoint. */
export const FOLDS_TO_MANY = -2;

/**
 * The hot path of scanning: folds one BMP code unit to a single folded code unit when it can,
 * without building a string. Returns FOLDS_TO_NOTHING or FOLDS_TO_MANY otherwise.
 */
export function foldUnit(unit: number): number {
  const cached = unitCache[unit];
  if (cached !== 0) return cached - UNIT_CACHE_OFFSET;
  let result: number;
  if (unit >= 0xd800 && unit <= 0xdfff) result = FOLDS_TO_MANY;
  else {
    const folded = foldCodePoint(unit);
    result = folded.length === 0 ? FOLDS_TO_NOTHING : folded.length === 1 ? folded.charCodeAt(0) : FOLDS_TO_MANY;
  }
  unitCache[unit] = result + UNIT_CACHE_OFFSET;
  return result;
}

// Stored shifted so that 0 can mean "not computed yet".
const UNIT_CACHE_OFFSET = 3;
const unitCache = new Int32Array(0x10000);

/** The folded form of a whole term (or any string): what the matcher indexes and compares. */
export function foldTerm(term: string): string {
  let folded = '';
  for (const char of term) folded += foldCodePoint(char.codePointAt(0)!);
  return folded;
}

/** Class of one folded character, given as a code point. */
export function classifyFoldedCodePoint(codePoint: number): CharClass {
  if (codePoint < 0x10000) {
    const cached = bmpClassCache[codePoint];
    if (cached !== 0) return cached as CharClass;
    return (bmpClassCache[codePoint] = computeClass(codePoint)) as CharClass;
  }
  return computeClass(codePoint);
}

function computeClass(codePoint: number): CharClass {
  const char = String.fromCodePoint(codePoint);
  if (IS_DIGIT.test(char)) return DIGIT;
  if (IS_UNSPACED.test(char)) return UNSPACED;
  return LETTER;
}

// Zero means not classified yet.
const bmpClassCache = new Uint8Array(0x10000);

// Indexed by BMP code point. Filled lazily: folding a code point costs a normalize() call once,
// then one array read, which matters because every character of every message goes through here.
const bmpCache: (string | undefined)[] = new Array(0x10000);

function computeFold(codePoint: number): string {
  const decomposed = String.fromCodePoint(codePoint).normalize('NFKD').toLowerCase();
  let folded = '';
  for (const char of decomposed) {
    if (!IS_KEPT.test(char)) continue;
    const simplified = SIMPLIFIED_BY_TRADITIONAL.get(char.codePointAt(0)!);
    folded += simplified !== undefined ? String.fromCodePoint(simplified) : (LOOKALIKES.get(char) ?? char);
  }
  return folded;
}
