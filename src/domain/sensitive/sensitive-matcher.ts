import { AhoCorasick } from './aho-corasick.js';
import {
  FOLDS_TO_NOTHING,
  LETTER,
  UNSPACED,
  classifyFoldedCodePoint,
  foldCodePoint,
  foldUnit,
  type CharClass,
} from './fold-text.js';

/** One occurrence of a listed term in a text. */
export interface SensitiveMatch {
  /** The term as it was listed (not as it was spelled in the text). */
  term: string;
  /** UTF-16 offset in the original text of the first character of the occurrence. */
  start: number;
  /** UTF-16 offset just past its last character; `text.slice(start, end)` is what was written. */
  end: number;
}

/** A compiled list of terms. Immutable; build once per list and share it. */
export interface SensitiveMatcher {
  /** Distinct terms after folding (several spellings of one term count once). */
  readonly size: number;
  /** Every occurrence, ordered by start, longer first when two start together. */
  findMatches(text: string): SensitiveMatch[];
  /** Distinct listed terms found, in order of first appearance. */
  findTerms(text: string): string[];
}

// Matching works on folded text (see fold-text.ts): separators are gone, so "赌 博" and "g-a-m-b-l-e"
// match like the plain terms. For letters of space-separated scripts that alone would make "ass"
// match inside "class", so a candidate is kept only if each edge that is a letter (or a digit)
// does not continue a word of the same kind in the text:
// - "class" does not contain "ass"; "sexy" does not contain "sex" (list inflected forms you want);
// - a letter edge next to a digit, Han character or separator is a boundary: "viagra100mg" and
//   "买viagra" match;
// - Han, kana, Hangul, Thai… edges never need a boundary: Chinese has no spaces between words.
// Spelled-out text needs one more rule: in "c l a s s", "a s s" is surrounded by separators, yet
// it is part of the spelled word. So when a match itself has separators where the term has none,
// a neighbouring single letter standing alone is treated as part of the same spelled-out word.

/** Compiles terms (any mix of scripts) into a matcher. Blank terms and ones that fold to nothing are ignored. */
export function createSensitiveMatcher(terms: Iterable<string>): SensitiveMatcher {
  const entries: TermEntry[] = [];
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const raw of terms) {
    const term = raw.trim();
    const entry = describeTerm(term);
    if (entry === null || seen.has(entry.key)) continue;
    seen.add(entry.key);
    keys.push(entry.key);
    entries.push(entry);
  }
  return new AutomatonMatcher(new AhoCorasick(keys), entries);
}

interface TermEntry {
  term: string;
  /** The folded term: what the automaton matches. */
  key: string;
  leftClass: CharClass;
  rightClass: CharClass;
  /** Folded offsets where a new word starts in a multi-word term ("free money" → 4), else null. */
  wordStarts: Set<number> | null;
}

/** Folds a term and notes what the boundary checks need; null if nothing is left to match. */
function describeTerm(term: string): TermEntry | null {
  let key = '';
  let wordStarts: Set<number> | null = null;
  let gap = false;
  for (let i = 0; i < term.length; ) {
    const codePoint = term.codePointAt(i)!;
    i += codePoint > 0xffff ? 2 : 1;
    const part = foldCodePoint(codePoint);
    if (part.length === 0) {
      gap = key.length > 0;
      continue;
    }
    if (gap) (wordStarts ??= new Set()).add(key.length);
    gap = false;
    key += part;
  }
  if (key.length === 0) return null;
  return {
    term,
    key,
    leftClass: classifyFoldedCodePoint(key.codePointAt(0)!),
    rightClass: classifyFoldedCodePoint(codePointEndingAt(key, key.length)),
    wordStarts,
  };
}

// Folded text of the message being scanned, one slot per folded code unit. Shared by all
// matchers: a scan is synchronous and never re-entered, and per-account matchers then cost no
// scratch memory each.
const scratch = {
  capacity: 0,
  unit: new Uint16Array(0),
  /** Original UTF-16 offsets of the code point this folded unit came from. */
  start: new Int32Array(0),
  end: new Int32Array(0),
  /** 1 if a separator (or the start of text) lies between this unit and the previous one. */
  gapBefore: new Uint8Array(0),
};

function ensureScratch(capacity: number): void {
  if (capacity <= scratch.capacity) return;
  const grown = Math.max(capacity, scratch.capacity * 2, 256);
  const copy = <T extends Uint16Array | Int32Array | Uint8Array>(old: T, next: T): T => (next.set(old), next);
  scratch.unit = copy(scratch.unit, new Uint16Array(grown));
  scratch.start = copy(scratch.start, new Int32Array(grown));
  scratch.end = copy(scratch.end, new Int32Array(grown));
  scratch.gapBefore = copy(scratch.gapBefore, new Uint8Array(grown));
  scratch.capacity = grown;
}

class AutomatonMatcher implements SensitiveMatcher {
  constructor(
    private readonly automaton: AhoCorasick,
    private readonly entries: readonly TermEntry[],
  ) {}

  get size(): number {
    return this.entries.length;
  }

  findTerms(text: string): string[] {
    return [...new Set(this.findMatches(text).map((match) => match.term))];
  }

  findMatches(text: string): SensitiveMatch[] {
    if (this.entries.length === 0 || text.length === 0) return [];
    const candidates: number[] = []; // pairs: entry index, folded end index (inclusive)
    const { automaton } = this;
    const { keyAt, outputLink } = automaton;
    ensureScratch(text.length * 2);
    let { unit: units, start: starts, end: ends, gapBefore } = scratch;
    let folded = 0;
    let gap = 1;
    let state = 0;
    for (let i = 0; i < text.length; ) {
      const single = foldUnit(text.charCodeAt(i));
      if (single >= 0) {
        // The common case: one character of text, one folded character.
        units[folded] = single;
        starts[folded] = i;
        ends[folded] = i + 1;
        gapBefore[folded] = gap;
        gap = 0;
        state = automaton.step(state, single);
        for (let node = keyAt[state] !== -1 ? state : outputLink[state]; node !== -1; node = outputLink[node]) {
          candidates.push(keyAt[node], folded);
        }
        folded++;
        i++;
        continue;
      }
      if (single === FOLDS_TO_NOTHING) {
        gap = 1;
        i++;
        continue;
      }
      const codePoint = text.codePointAt(i)!;
      const width = codePoint > 0xffff ? 2 : 1;
      const part = foldCodePoint(codePoint);
      if (part.length === 0) gap = 1;
      if (folded + part.length > scratch.capacity) {
        ensureScratch(folded + part.length);
        ({ unit: units, start: starts, end: ends, gapBefore } = scratch);
      }
      for (let p = 0; p < part.length; p++) {
        const unit = part.charCodeAt(p);
        units[folded] = unit;
        starts[folded] = i;
        ends[folded] = i + width;
        gapBefore[folded] = gap;
        gap = 0;
        state = automaton.step(state, unit);
        for (let node = keyAt[state] !== -1 ? state : outputLink[state]; node !== -1; node = outputLink[node]) {
          candidates.push(keyAt[node], folded);
        }
        folded++;
      }
      i += width;
    }
    if (candidates.length === 0) return [];
    return this.keepBounded(candidates, folded);
  }

  private keepBounded(candidates: number[], foldedLength: number): SensitiveMatch[] {
    const matches: SensitiveMatch[] = [];
    for (let c = 0; c < candidates.length; c += 2) {
      const entry = this.entries[candidates[c]];
      const last = candidates[c + 1];
      const first = last - entry.key.length + 1;
      if (!isWordEdge(entry, first, last, foldedLength)) continue;
      matches.push({ term: entry.term, start: scratch.start[first], end: scratch.end[last] });
    }
    return matches.sort((a, b) => a.start - b.start || b.end - a.end);
  }
}

function isWordEdge(entry: TermEntry, first: number, last: number, foldedLength: number): boolean {
  if (entry.leftClass === UNSPACED && entry.rightClass === UNSPACED) return true;
  const spelledOut = hasExtraGaps(entry, first, last);
  return (
    isOpenSide(entry.leftClass, first - 1, first, -1, foldedLength, spelledOut) &&
    isOpenSide(entry.rightClass, last + 1, last + 1, 1, foldedLength, spelledOut)
  );
}

/**
 * Whether the match may end on this side. `neighbour` is the folded index just outside the
 * match, `gapIndex` the index whose gapBefore says whether a separator lies in between, and
 * `direction` points away from the match.
 */
function isOpenSide(
  edgeClass: CharClass,
  neighbour: number,
  gapIndex: number,
  direction: -1 | 1,
  foldedLength: number,
  spelledOut: boolean,
): boolean {
  if (edgeClass === UNSPACED || neighbour < 0 || neighbour >= foldedLength) return true;
  const separated = scratch.gapBefore[gapIndex] === 1;
  const neighbourClass = classifyFoldedUnitAt(neighbour, direction);
  if (!separated) return neighbourClass !== edgeClass;
  if (!spelledOut || edgeClass !== LETTER || neighbourClass !== LETTER) return true;
  // The neighbour stands alone between separators: "c l a s s" seen from "a s s".
  const beyond = neighbour + direction;
  const beyondGapIndex = direction === -1 ? neighbour : neighbour + 1;
  const alone = beyond < 0 || beyond >= foldedLength || scratch.gapBefore[beyondGapIndex] === 1;
  return !alone;
}

/** Separators inside the match where the term itself has no word break. */
function hasExtraGaps(entry: TermEntry, first: number, last: number): boolean {
  for (let k = first + 1; k <= last; k++) {
    if (scratch.gapBefore[k] === 1 && !entry.wordStarts?.has(k - first)) return true;
  }
  return false;
}

function classifyFoldedUnitAt(index: number, direction: -1 | 1): CharClass {
  const unit = scratch.unit[index];
  const isSurrogate = unit >= 0xd800 && unit <= 0xdfff;
  if (!isSurrogate) return classifyFoldedCodePoint(unit);
  // Astral letters (CJK extensions) fold to surrogate pairs; classify the whole code point.
  const high = direction === -1 ? scratch.unit[index - 1] : unit;
  const low = direction === -1 ? unit : scratch.unit[index + 1];
  return classifyFoldedCodePoint(String.fromCharCode(high, low).codePointAt(0)!);
}

function codePointEndingAt(text: string, end: number): number {
  const last = text.charCodeAt(end - 1);
  if (last >= 0xdc00 && last <= 0xdfff && end >= 2) return text.codePointAt(end - 2)!;
  return last;
}
