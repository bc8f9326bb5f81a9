import { foldTerm } from './fold-text.js';
import { createSensitiveMatcher, type SensitiveMatch, type SensitiveMatcher } from './sensitive-matcher.js';

/** What one account's messages are screened against. */
export interface ScreeningPolicy {
  /** The gateway-wide list, typically `loadDefaultSensitiveMatcher()`. */
  matcher: SensitiveMatcher;
  /**
   * The account's own extra terms. Pass a matcher built once and cached per account; raw terms
   * are accepted for convenience but compiled on every call.
   */
  accountAdditions?: SensitiveMatcher | Iterable<string>;
  /**
   * Terms the account may send even though a list has them. Compared after folding, so
   * "Gambling" exempts "gambling"; an exemption removes exactly that term, not longer terms
   * containing it (exempting 赌博 still reports 网络赌博). An exemption beats an addition.
   */
  exemptions?: Iterable<string>;
}

/** The listed terms a text contains under a policy, distinct, in order of first appearance. */
export function screenContent(text: string, policy: ScreeningPolicy): string[] {
  const terms: string[] = [];
  const seenKeys = new Set<string>();
  for (const match of findScreenedMatches(text, policy)) {
    const key = foldTerm(match.term);
    if (seenKeys.has(key)) continue;
    seenKeys.add(key);
    terms.push(match.term);
  }
  return terms;
}

/** Every occurrence under a policy, with offsets into `text`: for previews that highlight them. */
export function findScreenedMatches(text: string, policy: ScreeningPolicy): SensitiveMatch[] {
  const additions = toMatcher(policy.accountAdditions);
  const matches = [...policy.matcher.findMatches(text), ...(additions?.findMatches(text) ?? [])];
  // Most texts match nothing, so the exemptions are only folded when there is something to exempt.
  if (matches.length === 0) return matches;
  const exempt = new Set<string>();
  for (const term of policy.exemptions ?? []) exempt.add(foldTerm(term));
  return matches
    .filter((match) => !exempt.has(foldTerm(match.term)))
    .sort((a, b) => a.start - b.start || b.end - a.end);
}

function toMatcher(additions: ScreeningPolicy['accountAdditions']): SensitiveMatcher | undefined {
  if (additions === undefined) return undefined;
  if (isSensitiveMatcher(additions)) return additions;
  return createSensitiveMatcher(additions);
}

function isSensitiveMatcher(value: SensitiveMatcher | Iterable<string>): value is SensitiveMatcher {
  return typeof (value as Partial<SensitiveMatcher>).findMatches === 'function';
}
