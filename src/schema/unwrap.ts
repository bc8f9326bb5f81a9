import { HeraldError } from '../domain/errors.js';

/** Throws a returned expected failure, so the errors plugin makes it a member of the result union. */
export function unwrap<T>(result: T | HeraldError): Exclude<T, HeraldError> {
  if (result instanceof HeraldError) throw result;
  return result as Exclude<T, HeraldError>;
}
