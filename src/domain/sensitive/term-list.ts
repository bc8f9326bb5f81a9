/**
 * Reads a term list in the format of `data/sensitive-words/*.txt`: one term per line, blank
 * lines and lines starting with `#` ignored, surrounding whitespace trimmed. A term may contain
 * spaces ("free money"); `#` inside a term is kept, so only whole-line comments exist.
 */
export function parseTermList(text: string): string[] {
  const terms: string[] = [];
  for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const term = line.trim();
    if (term.length > 0 && !term.startsWith('#')) terms.push(term);
  }
  return terms;
}
