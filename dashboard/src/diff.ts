// A word-level difference between two texts (longest common subsequence over words and the
// spaces between them), for showing what changed between two versions of a template.
export type Part = { kind: 'same' | 'added' | 'removed'; text: string };

const tokens = (s: string): string[] => s.match(/\s+|[^\s]+/g) ?? [];

export function diffWords(before: string, after: string): Part[] {
  const a = tokens(before);
  const b = tokens(after);
  // Templates are short (a few hundred words at most): the O(n·m) table is fine.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const parts: Part[] = [];
  const push = (kind: Part['kind'], text: string) => {
    const last = parts.at(-1);
    if (last?.kind === kind) last.text += text;
    else parts.push({ kind, text });
  };
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) (push('same', a[i]), i++, j++);
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) push('removed', a[i++]);
    else push('added', b[j++]);
  }
  while (i < a.length) push('removed', a[i++]);
  while (j < b.length) push('added', b[j++]);
  return parts;
}
