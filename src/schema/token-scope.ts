// What an access token may ask for, decided in one place before an operation runs (HTTP, SSE
// and graphql-ws alike: all go through yoga's plugins). Deny by default:
// - a root field is open to tokens only if ROOT_RULES lists it, and its rule accepts the
//   arguments (the message id is one the token names, the batch is its batch, …);
// - below the root, only the fields of OPEN_TYPES (and of error types) may be selected, so a
//   reachable type that leads elsewhere (a message's template and its versions, the message an
//   inbound reply answers) stays closed. A field added to the schema later is closed to tokens
//   until it is listed here.
// A refusal is a GraphQL error with code FORBIDDEN and no data. What needs the operation's
// result instead (a send with a template the token does not grant: a ForbiddenError member of
// sendMessage's union; its rate) is checked by the resolver with `checkTokenSend` below.
import type { Plugin } from '@envelop/core';
import {
  BREAK,
  getArgumentValues,
  getOperationAST,
  GraphQLError,
  isObjectType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { AccessScope, TokenPrincipal } from '../domain/access-token.js';
import { ForbiddenError, type RateLimitedError } from '../domain/errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Context } from './context.js';
import { decodeId } from './global-id.js';

type Args = Record<string, unknown>;
/** Undefined when the token may; else why not (the error's message). */
type RootRule = (scope: AccessScope, args: Args, ctx: Context) => string | undefined | Promise<string | undefined>;

const ROOT_RULES: Record<string, RootRule> = {
  'Query.message': (scope, args, ctx) => mayReadMessage(scope, args.id, ctx),
  'Query.batch': (scope, args) => (scope.batch !== null && decodeId(String(args.id), 'Batch', null) === scope.batch ? undefined : `this access token does not grant batch ${String(args.id)}`),
  // A client catching up on its batch's transitions after a reconnection (the SDK's events()).
  'Query.messages': (scope, args) => {
    const batchId = (args.filter as { batchId?: unknown } | undefined)?.batchId;
    const granted = scope.batch !== null && batchId != null && decodeId(String(batchId), 'Batch', null) === scope.batch;
    return granted ? undefined : 'an access token lists messages only with filter.batchId set to its batch';
  },
  'Query.inboundMessages': (scope) => (scope.inbound ? undefined : 'this access token does not grant inbound messages'),
  'Subscription.messageStatusChanged': (scope, args, ctx) => mayReadMessage(scope, args.id, ctx),
  'Subscription.messageEvents': (scope, args) => {
    const batchId = (args.filter as { batchId?: unknown } | undefined)?.batchId;
    const granted = scope.batch !== null && batchId != null && decodeId(String(batchId), 'Batch', null) === scope.batch;
    return granted ? undefined : "an access token watches messageEvents only with filter.batchId set to its batch";
  },
  'Subscription.inboundMessageReceived': (scope) => (scope.inbound ? undefined : 'this access token does not grant inbound messages'),
  'Mutation.sendMessage': (scope) => (scope.send ? undefined : 'this access token does not grant sending'),
  // A send form shows segments and encoding before sending: only for a template it may send with.
  'Query.previewMessage': (scope, args) => {
    const input = args.input as { body?: unknown; templateId?: unknown };
    const templateId = input.templateId != null ? decodeId(String(input.templateId), 'Template', null) : null;
    if (!scope.send) return 'this access token does not grant sending';
    if (input.body != null || !templateId || !scope.send.templates.includes(templateId)) return 'an access token previews only a template it may send with';
    return undefined;
  },
};

/** Types whose fields a token may select below an allowed root field. */
const OPEN_TYPES = new Set([
  'Message',
  'MessageEvent',
  'Batch',
  'StatusCount',
  'RecipientRejection',
  'InboundMessage',
  'InboundMessageConnection',
  'InboundMessageEdge',
  'PageInfo',
  'QueryMessagesConnection',
  'QueryMessagesConnectionEdge',
  // A message's estimated and actual cost: an amount and a currency, leading nowhere. (Its
  // routing decision, with providers' measured quality, stays closed.)
  'Money',
  'SendMessageSuccess',
  'ValidationIssue',
  'MessagePreview',
]);
/**
 * Fields of open types that lead out of a token's scope: the message a reply answers; a
 * preview's cost estimates (each provider with its prices and measured quality).
 */
const CLOSED_FIELDS = new Set(['InboundMessage.inReplyTo', 'MessagePreview.costs']);

/**
 * A token may read a message it names, one of its batch, or one it sent itself (its jti is
 * recorded on the message by sendMessage: durable, and known before the send returns the id, so
 * no race). Never a message its parent key or another token sent.
 */
async function mayReadMessage(scope: AccessScope, rawId: unknown, ctx: Context): Promise<string | undefined> {
  const id = decodeId(String(rawId), 'Message', null);
  if (id && scope.messages.includes(id)) return undefined;
  const sentBy = scope.send && ctx.auth.token ? ctx.auth.token.tokenId : null;
  const owned: Prisma.MessageWhereInput[] = [...(scope.batch ? [{ batchId: scope.batch }] : []), ...(sentBy ? [{ accessTokenId: sentBy }] : [])];
  if (id && owned.length && (await ctx.prisma.message.count({ where: { id, accountId: ctx.auth.accountId, OR: owned } })) > 0) return undefined;
  return `this access token does not grant message ${String(rawId)}`;
}

const forbidden = (message: string) => new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });

/** The refusal of an operation by an access token, or undefined when its scope allows all of it. */
export async function checkTokenOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Args | null | undefined,
  ctx: Context,
): Promise<GraphQLError | undefined> {
  const scope = ctx.auth.token?.scope;
  if (!scope) return undefined;
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined; // graphql-js answers this itself
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return undefined;
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  for (const field of rootFields(operation.selectionSet, fragments)) {
    const name = field.name.value;
    if (name === '__typename') continue;
    const rule = ROOT_RULES[`${rootType.name}.${name}`];
    const fieldDef = rootType.getFields()[name];
    if (!rule || !fieldDef) return forbidden(`an access token cannot use ${name}`);
    let args: Args;
    try {
      args = getArgumentValues(fieldDef, field, variables ?? undefined);
    } catch {
      // Variables that do not fit: refused here rather than judged on a guess.
      return forbidden(`an access token's ${name} needs valid arguments`);
    }
    const reason = await rule(scope, args, ctx);
    if (reason) return forbidden(reason);
  }
  return closedSelection(schema, document);
}

/** The operation's root fields, through fragments (skip/include ignored: a skipped field is checked too). */
function* rootFields(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, seen = new Set<string>()): Generator<FieldNode> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) yield selection;
    else if (selection.kind === Kind.INLINE_FRAGMENT) yield* rootFields(selection.selectionSet, fragments, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) yield* rootFields(fragment.selectionSet, fragments, seen);
    }
  }
}

/** Whether a field selects nothing but `id` (and `__typename`) below it. */
function onlyIds(node: FieldNode): boolean {
  return (node.selectionSet?.selections ?? []).every((s) => s.kind === Kind.FIELD && (s.name.value === 'id' || s.name.value === '__typename'));
}

/** The first field below the root that a token may not select, as its refusal. */
function closedSelection(schema: GraphQLSchema, document: DocumentNode): GraphQLError | undefined {
  const typeInfo = new TypeInfo(schema);
  const rootTypes = new Set<unknown>([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]);
  let refusal: GraphQLError | undefined;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const name = node.name.value;
        // Root fields (of any operation in the document) are ROOT_RULES' to judge.
        if (!parent || name === '__typename' || rootTypes.has(parent)) return;
        const coordinate = `${parent.name}.${name}`;
        const open = (OPEN_TYPES.has(parent.name) || isErrorType(parent)) && !CLOSED_FIELDS.has(coordinate);
        if (open) return;
        // The id of the message a reply answers says nothing of it (the SDK's reply fragment asks
        // for it); anything more of that message stays closed.
        if (coordinate === 'InboundMessage.inReplyTo' && onlyIds(node)) return false;
        refusal = forbidden(`an access token cannot select ${coordinate}`);
        return BREAK;
      },
    }),
  );
  return refusal;
}

function isErrorType(type: unknown): boolean {
  return (isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Error')) || (type as { name?: string }).name === 'Error';
}

/**
 * The yoga plugin applying the scope: refuses before execution (no resolver runs), and ends a
 * token's subscription streams when the token expires or its key is revoked, so that an SSE
 * stream ends as a token's WebSocket closes (http/graphql-ws.ts).
 */
export function useTokenScope(): Plugin<Context> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const refusal = await checkTokenOperation(args.schema, args.document, args.operationName, args.variableValues, args.contextValue);
      if (refusal) setResultAndStopExecution({ errors: [refusal] });
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue;
      const refusal = await checkTokenOperation(args.schema, args.document, args.operationName, args.variableValues, ctx);
      if (refusal) return setResultAndStopExecution({ errors: [refusal] });
      const token = ctx.auth.token;
      if (!token) return;
      return {
        onSubscribeResult({ result, setResult }) {
          if (Symbol.asyncIterator in result) setResult(endWithToken(result, token, ctx));
        },
      };
    },
  };
}

/** `source` until the token expires or its parent key is revoked, whichever is first. */
async function* endWithToken<T>(source: AsyncIterable<T>, token: TokenPrincipal, ctx: Context): AsyncGenerator<T> {
  let stop!: () => void;
  const ended = new Promise<'ended'>((resolve) => (stop = () => resolve('ended')));
  const timer = setTimeout(stop, Math.max(0, token.expiresAt.getTime() - Date.now()));
  timer.unref();
  const stopRevocations = ctx.pubsub.onKeyRevoked(({ keyId }) => keyId === ctx.auth.keyId && stop());
  const events = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([events.next(), ended]);
      if (next === 'ended' || next.done) return;
      yield next.value;
    }
  } finally {
    clearTimeout(timer);
    stopRevocations();
    // Not awaited: a source waiting for its next event finishes its return only then.
    void events.return?.();
  }
}

/**
 * A send by an access token: only with a template it grants (never a plain body), and within
 * the rate it was minted with. Undefined for a key, or when the token may send this.
 */
export async function checkTokenSend(ctx: Context, templateId: string | null | undefined): Promise<ForbiddenError | RateLimitedError | undefined> {
  const token = ctx.auth.token;
  if (!token) return undefined;
  const send = token.scope.send;
  if (!send) return new ForbiddenError('this access token does not grant sending');
  if (!templateId) return new ForbiddenError('an access token sends with a template only, never a plain body');
  if (!send.templates.includes(templateId)) return new ForbiddenError(`this access token does not grant sending with template ${templateId}`);
  return ctx.compliance.limiter.consumeTokenSend(ctx.auth.accountId, token.tokenId, send.perMinute);
}
