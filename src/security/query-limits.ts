// Refuses GraphQL documents too large or too deep to be worth running (graphql-armor rules as
// envelop plugins). They act at parse and validate, before any resolver or database query, and
// apply wherever yoga's envelop runs: HTTP, SSE and graphql-ws (server.ts onSubscribe).
import type { Plugin } from '@envelop/core';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, type ValidationContext } from 'graphql';
import type { GraphqlLimits } from '../config/config.js';

export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

/** A refusal clients can tell apart from a schema mistake: stable code, HTTP 400, the limit named. */
export function queryTooComplex(message: string): GraphQLError {
  // Yoga marks parse and validation errors as GraphQL-over-HTTP "spec" errors (`spec ||= true`),
  // which legacy application/json clients get with HTTP 200. A refused document is a 400 for
  // every client, so `spec` stays false whatever yoga assigns.
  const http = { status: 400 };
  Object.defineProperty(http, 'spec', { get: () => false, set: () => {}, enumerable: false });
  // graphql-armor prefixes every message with "Syntax Error: " although none of these is one.
  return new GraphQLError(message.replace(/^Syntax Error: /, ''), { extensions: { code: QUERY_TOO_COMPLEX, http } });
}

export function queryLimitPlugins(limits: GraphqlLimits): Plugin[] {
  // Validation rules report the refusal with our code and let validation go on (armor's own
  // error would be thrown out of validate() with no code); the token limit stops the parser
  // itself, which is the point of it, so that one is thrown.
  const report = { propagateOnRejection: false, onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(queryTooComplex(error.message))] };
  return [
    maxTokensPlugin({
      n: limits.maxTokens,
      propagateOnRejection: false,
      onReject: [
        (_context, error) => {
          throw queryTooComplex(error.message);
        },
      ],
    }),
    deepNestingPlugin,
    maxDepthPlugin({ n: limits.maxDepth, ...report }),
    maxAliasesPlugin({ n: limits.maxAliases, ...report }),
    maxDirectivesPlugin({ n: limits.maxDirectives, ...report }),
    costLimitPlugin({ maxCost: limits.maxCost, ...report }),
  ];
}

/**
 * graphql-js parses recursively: a selection left open a couple of thousand levels deep (under the
 * token limit) overflows the stack before the parser can say "syntax error", and the request
 * ended as a 500 (found by the chaos suite's fuzzing). The overflow unwinds cleanly out of the
 * parser, so it is answered as the refusal it is. Placed after the token limit so it wraps the
 * parser that plugin installs.
 */
const deepNestingPlugin: Plugin = {
  onParse({ parseFn, setParseFn }) {
    setParseFn((source, options) => {
      try {
        return parseFn(source, options);
      } catch (error) {
        if (error instanceof RangeError) throw queryTooComplex('The document nests too deeply to be parsed.');
        throw error;
      }
    });
  },
};
