// Registers every domain's types on the builder, then builds the schema.
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import './templates.js';
import './messages.js';
import './message-routing.js';
import './compliance.js';
import './batches.js';
import './preview.js';
import './api-keys.js';
import './access-tokens.js';
import './sender-identities.js';
import './prices.js';
import './budgets.js';
import './retention.js';
import './erasure.js';
import './configuration.js';
import './inbound.js';
import './inbound-conversation.js';
import './subscriptions.js';
import './verification.js';
import './providers.js';
import './webhook-endpoints.js';
import './stats.js';
import './audit-log.js';

let schema: GraphQLSchema | undefined;

export function buildSchema(): GraphQLSchema {
  schema ??= builder.toSchema({ sortSchema: false });
  return schema;
}

/** The SDL committed as schema.graphql (sorted, so diffs only show real changes). */
export function printSchemaSDL(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
