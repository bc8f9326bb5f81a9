// A mutation's union failure as the console shows it: `CODE: message`, and for forms, split by the
// field each ValidationError issue names. Pure, so it is unit-tested (test/unit/console-helpers.test.ts).

/** A union result's failure as `CODE: message (details)`. */
export const failure = (r: { code?: string; message?: string; issues?: { message: string }[] }): string => {
  const details = r.issues?.map((i) => i.message).join('; ');
  return `${r.code}: ${r.message}${details ? ` (${details})` : ''}`;
};

export interface UnionResult { __typename: string; code?: string; message?: string; issues?: { message: string; path?: string[] }[] }

/**
 * A union result's failure split for a form: a ValidationError's issues go next to the field
 * their path ends with (["input", "url"] → url) when the form has it; everything else (another
 * error, an issue about no field of the form) is `general`. Each as `CODE: message`.
 */
export function formErrors(r: UnionResult, fields: string[]): { fields: Record<string, string>; general: string } {
  if (r.__typename.endsWith('Success')) return { fields: {}, general: '' };
  const out: Record<string, string[]> = {};
  const rest: string[] = [];
  for (const issue of r.issues ?? []) {
    const field = [...(issue.path ?? [])].reverse().find((p) => fields.includes(p));
    if (field) (out[field] ??= []).push(issue.message);
    else rest.push(issue.message);
  }
  const byField = Object.fromEntries(Object.entries(out).map(([f, messages]) => [f, `${r.code}: ${messages.join('; ')}`]));
  const general = !r.issues ? failure(r) : rest.length || !Object.keys(byField).length ? `${r.code}: ${r.message}${rest.length ? ` (${rest.join('; ')})` : ''}` : '';
  return { fields: byField, general };
}

