import { HeraldError } from '../domain/errors.js';

/**
 * The one way from a service's `T | HeraldError` to a field's answer: the value, or the expected
 * failure thrown for the errors plugin, which makes it a member of the field's result union
 * (or, when the union does not list it, a GraphQL error with its code: see expected-errors.ts).
 */
export function unwrap<T>(result: T | HeraldError): Exclude<T, HeraldError> {
  if (result instanceof HeraldError) throw result;
  return result as Exclude<T, HeraldError>;
}
