import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/paths.js';
import { createSensitiveMatcher, type SensitiveMatcher } from '../domain/sensitive/sensitive-matcher.js';
import { parseTermList } from '../domain/sensitive/term-list.js';

// The one part of the screen that touches the file system (so it is a service, not domain): the built-in lists are data, kept
// in the repository beside the code (data/sensitive-words), so that they can be reviewed and
// changed without touching TypeScript.
const LIST_DIRECTORY = path.join(projectRoot, 'data', 'sensitive-words');

/** The built-in lists, in the order their terms are reported when two spell the same term. */
export const DEFAULT_SENSITIVE_LIST_FILES = ['zh.txt', 'en.txt'] as const;

let cachedTerms: readonly string[] | undefined;
let cachedMatcher: SensitiveMatcher | undefined;

/** Terms of the built-in Chinese and English lists; read once, then served from memory. */
export function loadDefaultSensitiveTerms(): string[] {
  cachedTerms ??= DEFAULT_SENSITIVE_LIST_FILES.flatMap((file) =>
    parseTermList(readFileSync(path.join(LIST_DIRECTORY, file), 'utf8')),
  );
  return [...cachedTerms];
}

/** A matcher over the built-in lists, built on first use and shared afterwards. */
export function loadDefaultSensitiveMatcher(): SensitiveMatcher {
  cachedMatcher ??= createSensitiveMatcher(loadDefaultSensitiveTerms());
  return cachedMatcher;
}
