// Templates: `{{name}}` placeholders, rendering, and the review lifecycle, as pure functions.
import { InvalidTemplateStateError, TemplateVariablesMismatchError, ValidationError, type ValidationIssue } from './errors.js';

export type TemplateStatus = 'DRAFT' | 'PENDING_REVIEW' | 'APPROVED' | 'REJECTED';
export type TemplateCategory = 'OTP' | 'NOTIFICATION' | 'MARKETING';

// `{{ name }}`: spaces inside the braces are allowed; names are identifiers so they map to
// JSON keys without quoting (and to Aliyun's ${name} / Tencent's positional {1} later).
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The distinct variable names of a template body, in order of first use, or what is wrong. */
export function parseTemplateVariables(body: string, path: string[] = ['input', 'body']): string[] | ValidationError {
  const names: string[] = [];
  const issues: ValidationIssue[] = [];
  for (const match of body.matchAll(PLACEHOLDER)) {
    const name = match[1];
    if (!VARIABLE_NAME.test(name)) {
      issues.push({ path, message: `"{{${name}}}" is not a valid variable name (letters, digits and _, not starting with a digit)` });
    } else if (!names.includes(name)) names.push(name);
  }
  const stray = body.replace(PLACEHOLDER, '');
  if (stray.includes('{{') || stray.includes('}}')) issues.push({ path, message: 'has an unclosed "{{" or a stray "}}"' });
  return issues.length ? new ValidationError(issues) : names;
}

/**
 * Fills a template. Every variable must be given and nothing else: a typo in a variable name
 * would otherwise send a message with a hole in it. Values may be strings, numbers or booleans.
 */
export function renderTemplate(body: string, variables: readonly string[], values: unknown): string | TemplateVariablesMismatchError | ValidationError {
  const given = values === null || values === undefined ? {} : values;
  if (typeof given !== 'object' || Array.isArray(given)) {
    return new ValidationError([{ path: ['input', 'variables'], message: 'must be an object of variable names to values' }]);
  }
  const provided = given as Record<string, unknown>;
  const missing = variables.filter((name) => provided[name] === undefined || provided[name] === null);
  const unknown = Object.keys(provided).filter((name) => !variables.includes(name));
  if (missing.length || unknown.length) return new TemplateVariablesMismatchError(missing, unknown);
  const badValues = variables.filter((name) => !['string', 'number', 'boolean'].includes(typeof provided[name]));
  if (badValues.length) {
    return new ValidationError(badValues.map((name) => ({ path: ['input', 'variables', name], message: 'must be a string, number or boolean' })));
  }
  const rendered = body.replace(PLACEHOLDER, (_, name: string) => String(provided[name]));
  // A plain body must not be blank; neither may a template's once filled ("{{x}}" with x = " ").
  if (rendered.trim() === '') return new ValidationError([{ path: ['input', 'variables'], message: 'the rendered body must not be empty' }]);
  return rendered;
}

/** What an edit does: change the draft in place, or start a new version that needs review. */
export function planTemplateEdit(status: TemplateStatus): 'edit-in-place' | 'new-version' | InvalidTemplateStateError {
  switch (status) {
    case 'DRAFT':
      return 'edit-in-place';
    case 'APPROVED':
    case 'REJECTED':
      return 'new-version';
    case 'PENDING_REVIEW':
      return new InvalidTemplateStateError(status, 'the template is in review; wait for the review before editing it');
  }
}

export function checkCanSubmit(status: TemplateStatus): InvalidTemplateStateError | undefined {
  if (status === 'DRAFT') return undefined;
  return new InvalidTemplateStateError(status, `only a DRAFT can be submitted for review; this version is ${status}` + (status === 'REJECTED' ? ' (edit it to make a new draft)' : ''));
}

export function checkCanReview(status: TemplateStatus): InvalidTemplateStateError | undefined {
  if (status === 'PENDING_REVIEW') return undefined;
  return new InvalidTemplateStateError(status, `only a template in PENDING_REVIEW can be reviewed; this one is ${status}`);
}
