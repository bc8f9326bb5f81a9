// An expected failure (a HeraldError) that reaches the edge outside a result union: a query's
// (queries have no union), or one a mutation's union does not list. Yoga would mask it as
// "Unexpected error."; it is no bug, so the client gets its message and code instead.
import { GraphQLError } from 'graphql';
import { HeraldError } from '../domain/errors.js';

/**
 * The GraphQL error a client sees for `error` when it is (or wraps) a HeraldError: its message,
 * and in `extensions` its `code` and the fields its union member would show (e.g. `issues` of a
 * ValidationError). Anything else is returned as it is, for Yoga to mask.
 */
export function exposeExpectedError(error: unknown): unknown {
  const located = error instanceof GraphQLError ? error : undefined;
  const expected = located ? located.originalError : error;
  if (!(expected instanceof HeraldError)) return error;
  // The class's own fields (`code`, `issues`, `retryAfterSeconds`, …): not message or stack.
  const { code, ...fields } = { ...expected };
  return new GraphQLError(expected.message, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    extensions: { code, ...fields },
  });
}
