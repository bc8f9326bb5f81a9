// createAccessToken: a key (SENDER or ADMIN, never a token) mints a short-lived token for a
// browser page, granting only what the page needs (domain/access-token.ts; how each operation
// is held to it: token-scope.ts).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { ACCESS_TOKEN_DEFAULT_SECONDS, ACCESS_TOKEN_MAX_IDS, ACCESS_TOKEN_MAX_SECONDS, ACCESS_TOKEN_MAX_TEMPLATES, accessTokenAudience, accessTokenInputSchema, type AccessScope } from '../domain/access-token.js';
import { ForbiddenError, NotFoundError, TemplateNotApprovedError, ValidationError } from '../domain/errors.js';
import { parseOrError } from '../domain/validation.js';
import { mintAccessToken, type MintedAccessToken } from '../services/access-tokens.js';
import { builder } from './builder.js';
import { decodeId, NO_ROW_ID } from './global-id.js';
import { unwrap } from './unwrap.js';

const AccessTokenScope = builder.objectRef<AccessScope>('AccessTokenScope').implement({
  description: 'What an access token grants.',
  fields: (t) => ({
    messages: t.idList({ description: 'Messages it may read and watch.', resolve: (s) => s.messages.map((id) => encodeGlobalID('Message', id)) }),
    batch: t.id({ nullable: true, description: 'The batch it may read and watch (its messages included).', resolve: (s) => s.batch && encodeGlobalID('Batch', s.batch) }),
    inbound: t.exposeBoolean('inbound', { description: "Whether it may read and watch the account's inbound messages." }),
    sendTemplates: t.idList({ description: 'The APPROVED templates it may send with (never a plain body).', resolve: (s) => (s.send?.templates ?? []).map((id) => encodeGlobalID('Template', id)) }),
    sendPerMinute: t.int({ nullable: true, description: 'Messages it may send per minute.', resolve: (s) => s.send?.perMinute ?? null }),
  }),
});

const AccessToken = builder.objectRef<MintedAccessToken>('AccessToken').implement({
  description: 'A short-lived token for a browser page: use it as `Authorization: Bearer <token>` or in graphql-ws connectionParams.authorization.',
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The token (a signed JWT). Not stored by Herald: keep it in the page only.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'After this it is refused (401; a socket it opened is closed with 4401).' }),
    scope: t.field({ type: AccessTokenScope, resolve: (m) => m.scope }),
  }),
});

const CreateAccessTokenInput = builder.inputType('CreateAccessTokenInput', {
  description: 'What the token grants; at least one of messages, batch, inbound or sendTemplates.',
  fields: (t) => ({
    messages: t.idList({ required: false, description: `Messages the page may read and watch (message, messageStatusChanged); at most ${ACCESS_TOKEN_MAX_IDS}.` }),
    batch: t.id({ required: false, description: 'A batch the page may read and watch (batch, messageEvents with filter.batchId, its messages).' }),
    inbound: t.boolean({ required: false, description: "The account's inbound messages (inboundMessages, inboundMessageReceived)." }),
    sendTemplates: t.idList({ required: false, description: `APPROVED templates the page may send with (sendMessage with templateId; never a body); at most ${ACCESS_TOKEN_MAX_TEMPLATES}.` }),
    sendPerMinute: t.int({ required: false, description: 'Required with sendTemplates: the most messages the token may send per minute.' }),
    ttlSeconds: t.int({ required: false, description: `Lifetime in seconds: default ${ACCESS_TOKEN_DEFAULT_SECONDS}, at most ${ACCESS_TOKEN_MAX_SECONDS}.` }),
  }),
});

builder.mutationField('createAccessToken', (t) =>
  t.field({
    type: AccessToken,
    description:
      'Mints a short-lived token for a browser page, granting only the given scope, from a SENDER or ADMIN key (a token cannot mint tokens). ' +
      'Revoking the key ends its tokens at once, open sockets included.',
    errors: { types: [ValidationError, NotFoundError, TemplateNotApprovedError, ForbiddenError] },
    args: { input: t.arg({ type: CreateAccessTokenInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const parsed = unwrap(parseOrError(accessTokenInputSchema, input, ['input']));
      const decode = (id: string | number, typename: 'Message' | 'Batch' | 'Template') => decodeId(id, typename, NO_ROW_ID);
      const minted = await mintAccessToken(
        { prisma: ctx.prisma, secrets: ctx.store.secrets, apiKeys: ctx.store.apiKeys, audience: accessTokenAudience(ctx.config.publicUrl) },
        ctx.auth,
        {
          messages: (parsed.messages ?? []).map((id) => decode(id, 'Message')),
          batch: parsed.batch ? decode(parsed.batch, 'Batch') : null,
          inbound: parsed.inbound ?? false,
          sendTemplates: (parsed.sendTemplates ?? []).map((id) => decode(id, 'Template')),
          sendPerMinute: parsed.sendPerMinute ?? null,
          ttlSeconds: parsed.ttlSeconds ?? null,
        },
      );
      return unwrap(minted);
    },
  }),
);
