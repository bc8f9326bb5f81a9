// Minting and verifying browser access tokens (the rules are domain/access-token.ts's; why a
// signed JWT and not a stored token is said there and in docs/security.md, "Browser tokens").
import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWSHeaderParameters } from 'jose';
import {
  ACCESS_TOKEN_DEFAULT_SECONDS,
  ACCESS_TOKEN_ISSUER,
  ACCESS_TOKEN_MAX_SECONDS,
  kidInForce,
  readTokenClaims,
  signingKeySetting,
  signingKid,
  type AccessScope,
  type AccessTokenClaims,
} from '../domain/access-token.js';
import type { Auth } from '../domain/api-key.js';
import { ForbiddenError, NotFoundError, TemplateNotApprovedError } from '../domain/errors.js';
import type { PrismaClient } from '../db/database.js';
import type { ApiKeyReads } from '../store/api-keys.js';
import type { SecretStore } from '../store/secrets.js';

/** What minting and verifying need. */
export interface AccessTokenDeps {
  prisma: PrismaClient;
  secrets: SecretStore;
  apiKeys: ApiKeyReads;
  /** The `aud` every token names and every verification wants: this Herald (PUBLIC_URL, else "herald"). */
  audience: string;
}

/** The ids of a token request, decoded to database ids (an undecodable id never matches a row). */
export interface AccessTokenRequest {
  messages: string[];
  batch: string | null;
  inbound: boolean;
  sendTemplates: string[];
  sendPerMinute: number | null;
  ttlSeconds: number | null;
}

export interface MintedAccessToken {
  token: string;
  expiresAt: Date;
  scope: AccessScope;
}

const signingKey = async (secrets: SecretStore, kid: string) => Buffer.from(await secrets.getOrCreate(signingKeySetting(kid)), 'hex');

/**
 * A token for `auth`'s account granting `request`, once every id in it is the account's and every
 * template APPROVED (a token never grants what its key could not reach). Tokens cannot mint tokens.
 */
export async function mintAccessToken(
  deps: AccessTokenDeps,
  auth: Auth,
  request: AccessTokenRequest,
  now = new Date(),
): Promise<MintedAccessToken | ForbiddenError | NotFoundError | TemplateNotApprovedError> {
  if (auth.token) return new ForbiddenError('an access token cannot create access tokens; ask the backend that holds the API key');
  const refused = await checkScopeIds(deps.prisma, auth.accountId, request);
  if (refused) return refused;
  const scope: AccessScope = {
    messages: [...new Set(request.messages)],
    batch: request.batch,
    inbound: request.inbound,
    send: request.sendTemplates.length ? { templates: [...new Set(request.sendTemplates)], perMinute: request.sendPerMinute ?? 1 } : null,
  };
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = issuedAt + Math.min(request.ttlSeconds ?? ACCESS_TOKEN_DEFAULT_SECONDS, ACCESS_TOKEN_MAX_SECONDS);
  const kid = signingKid(now);
  const claims: AccessTokenClaims = { acct: auth.accountId, scope };
  const token = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(deps.audience)
    .setSubject(auth.keyId)
    .setJti(randomUUID())
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(await signingKey(deps.secrets, kid));
  return { token, expiresAt: new Date(expiresAt * 1000), scope };
}

async function checkScopeIds(prisma: PrismaClient, accountId: string, request: AccessTokenRequest) {
  const messages = new Set(request.messages);
  if (messages.size && (await prisma.message.count({ where: { id: { in: [...messages] }, accountId } })) !== messages.size) return new NotFoundError('message');
  if (request.batch && !(await prisma.batch.findFirst({ where: { id: request.batch, accountId }, select: { id: true } }))) return new NotFoundError('batch');
  const templateIds = new Set(request.sendTemplates);
  if (!templateIds.size) return undefined;
  const templates = await prisma.template.findMany({ where: { id: { in: [...templateIds] }, accountId, deletedAt: null }, select: { currentVersion: { select: { status: true } } } });
  if (templates.length !== templateIds.size) return new NotFoundError('template');
  // The send itself checks again: a template edited after minting sends only once re-approved.
  const unapproved = templates.find((t) => t.currentVersion?.status !== 'APPROVED');
  return unapproved ? new TemplateNotApprovedError(unapproved.currentVersion?.status ?? 'DRAFT') : undefined;
}

/** Why a token was refused, said to its caller (HTTP 401, WebSocket close 4401). */
export class TokenRefused extends Error {
  override name = 'TokenRefused';
}

/**
 * The caller a token stands for, or TokenRefused saying why not: a bad signature, an unknown or
 * retired key, another audience, expiry, a lifetime over the maximum, or a parent key that is
 * revoked. The parent key is read through the key cache that every revocation empties.
 */
export async function authenticateAccessToken(deps: AccessTokenDeps, token: string, now = new Date()): Promise<Auth | TokenRefused> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, (header: JWSHeaderParameters) => keyFor(deps.secrets, header, now), {
      algorithms: ['HS256'],
      issuer: ACCESS_TOKEN_ISSUER,
      audience: deps.audience,
      currentDate: now,
      requiredClaims: ['sub', 'jti', 'iat', 'exp'],
    }));
  } catch (error) {
    return refusal(error);
  }
  const claims = readTokenClaims(payload);
  if (!claims) return new TokenRefused('the access token is not a Herald token');
  if (claims.principal.expiresAt.getTime() - (payload as { iat: number }).iat * 1000 > ACCESS_TOKEN_MAX_SECONDS * 1000) {
    return new TokenRefused(`the access token lives longer than ${ACCESS_TOKEN_MAX_SECONDS} s`);
  }
  const parent = await deps.apiKeys.findById(claims.parentKeyId);
  if (!parent || parent.revokedAt || parent.accountId !== claims.accountId) return new TokenRefused('the API key that created this access token is revoked');
  return { keyId: parent.id, accountId: parent.accountId, role: parent.role, token: claims.principal };
}

async function keyFor(secrets: SecretStore, header: JWSHeaderParameters, now: Date): Promise<Uint8Array> {
  if (!header.kid || !kidInForce(header.kid, now)) throw new TokenRefused('the access token was signed with a key that is unknown or retired');
  return signingKey(secrets, header.kid);
}

/** jose's refusals as reasons a developer can act on; anything else (a database error) is thrown. */
function refusal(error: unknown): TokenRefused {
  if (error instanceof TokenRefused) return error;
  if (error instanceof errors.JWTExpired) return new TokenRefused('the access token has expired: get a new one');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return new TokenRefused('the access token was issued for another audience');
    return new TokenRefused(`the access token's "${error.claim}" claim is not valid`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new TokenRefused('the access token signature is invalid');
  if (error instanceof errors.JOSEError) return new TokenRefused('the access token is malformed');
  throw error;
}
