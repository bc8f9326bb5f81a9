import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors.js';

/** zod issues → our ValidationIssue list, paths prefixed (e.g. with "input"). */
export function toValidationIssues(error: z.ZodError, prefix: string[] = []): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: [...prefix, ...issue.path.map(String)], message: issue.message }));
}

export function parseOrError<T>(schema: z.ZodType<T>, value: unknown, prefix: string[] = []): T | ValidationError {
  const result = schema.safeParse(value);
  return result.success ? result.data : new ValidationError(toValidationIssues(result.error, prefix));
}
