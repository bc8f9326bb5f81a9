// GraphQL documents and helpers shared by the verification API tests. The code is read where
// the user reads it: in the SMS as sent, i.e. the sealed body the dispatcher hands the provider
// (the stored Message.body shows it masked).
import { expect } from 'vitest';
import { openSealed } from '../../src/domain/sealing.js';
import { getMessageSealKey } from '../../src/services/secrets.js';
import { createSecretStore } from '../../src/store/secrets.js';
import { expectNoErrors, type GraphQLCaller, type SeededAccount, type TestHerald } from '../support/herald.js';

export const VERIFICATION_FIELDS = 'id to status codeLength attempts maxAttempts attemptsLeft expiresAt createdAt updatedAt approvedAt';

export const START = /* GraphQL */ `
  mutation Start($input: StartVerificationInput!) {
    startVerification(input: $input) {
      __typename
      ... on StartVerificationSuccess { data { ${VERIFICATION_FIELDS} message { id to category status template { id } } } }
      ... on Error { code message }
      ... on ValidationError { issues { path message } }
      ... on InvalidPhoneNumberError { input }
      ... on RateLimitedError { retryAfterSeconds }
      ... on RecipientOptedOutError { phone }
      ... on TemplateNotApprovedError { status }
      ... on SensitiveContentError { words }
      ... on VerificationBlockedError { reason country prefix blockedForSeconds }
    }
  }
`;

export const CHECK = /* GraphQL */ `
  mutation Check($input: CheckVerificationInput!) {
    checkVerification(input: $input) {
      __typename
      ... on CheckVerificationSuccess { data { ${VERIFICATION_FIELDS} } }
      ... on Error { code message }
      ... on ValidationError { issues { path message } }
      ... on VerificationFailedError { reason attemptsLeft }
    }
  }
`;

export const LIST = /* GraphQL */ `
  query List($to: String, $status: VerificationStatus, $first: Int) {
    verifications(to: $to, status: $status, first: $first) { edges { node { ${VERIFICATION_FIELDS} message { id status } } } }
  }
`;

export const SETTINGS = /* GraphQL */ `
  mutation Settings($input: AccountSettingsInput!) {
    updateAccountSettings(input: $input) {
      __typename
      ... on UpdateAccountSettingsSuccess { data { otpAllowedCountries otpPrefixVelocity { prefixDigits max perSeconds } } }
      ... on Error { code message }
      ... on ValidationError { issues { path message } }
    }
  }
`;

async function root(caller: GraphQLCaller, document: string, variables: Record<string, unknown>): Promise<any> {
  const data = expectNoErrors(await caller(document, variables)) as Record<string, unknown>;
  return Object.values(data)[0];
}

export const start = (caller: GraphQLCaller, input: Record<string, unknown>) => root(caller, START, { input });
export const check = (caller: GraphQLCaller, to: string, code: string) => root(caller, CHECK, { input: { to, code } });
export const setOtpSettings = (caller: GraphQLCaller, input: Record<string, unknown>) => root(caller, SETTINGS, { input });

export async function list(caller: GraphQLCaller, variables: Record<string, unknown> = {}): Promise<any[]> {
  const data = expectNoErrors(await caller(LIST, variables));
  return data.verifications.edges.map((e: { node: unknown }) => e.node);
}

/** Starts a verification that must succeed; returns the Verification. */
export async function started(caller: GraphQLCaller, input: Record<string, unknown>): Promise<any> {
  const result = await start(caller, input);
  expect(result.__typename, JSON.stringify(result)).toBe('StartVerificationSuccess');
  return result.data;
}

/** The database id inside a Relay global id. */
export function rawId(globalId: string): string {
  return Buffer.from(globalId, 'base64').toString('utf8').split(':')[1];
}

/**
 * The SMS that carried a verification's code: `body` as handed to the provider (the sealed copy,
 * opened), `storedBody` as the database and the API show it (the code masked).
 */
export async function sentMessage(t: TestHerald, verificationGlobalId: string) {
  const row = await t.database.prisma.verification.findUniqueOrThrow({ where: { id: rawId(verificationGlobalId) }, include: { message: true } });
  if (!row.message) throw new Error('the verification has no message');
  if (!row.message.sealedBody) throw new Error('a verification message must have a sealed body');
  const body = openSealed(await getMessageSealKey(createSecretStore(t.database.prisma)), row.message.sealedBody);
  expect(row.message.body).toBe(body.replace(/\d{4,10}/, (code) => '•'.repeat(code.length)));
  return { ...row.message, body, storedBody: row.message.body };
}

/** The code, read from the SMS as the user would. */
export async function sentCode(t: TestHerald, verificationGlobalId: string): Promise<string> {
  const { body } = await sentMessage(t, verificationGlobalId);
  const code = /\d{4,10}/.exec(body)?.[0];
  if (!code) throw new Error(`no code in ${JSON.stringify(body)}`);
  return code;
}

/**
 * Moves every verification of the account `seconds` into the past (createdAt and expiresAt),
 * as if that much time had gone by: limits count from createdAt.
 */
export async function travel(t: TestHerald, account: SeededAccount, seconds: number): Promise<void> {
  await t.database.prisma.$executeRaw`UPDATE "Verification"
    SET "createdAt" = "createdAt" - make_interval(secs => ${seconds}), "expiresAt" = "expiresAt" - make_interval(secs => ${seconds})
    WHERE "accountId" = ${account.accountId}::uuid`;
}

/** A code of the same length that is not `code`. */
export function wrongCode(code: string): string {
  return code.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
}
