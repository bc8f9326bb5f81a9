// GraphQL documents and small helpers shared by the template, compliance and limits API tests.
import { expect } from 'vitest';
import { expectNoErrors, type GraphQLCaller, type SeededAccount } from './herald.js';

export const TEMPLATE_FIELDS = /* GraphQL */ `
  id name category status version body variables rejectionReason submittedAt reviewedAt deletedAt
  versions { version body variables status rejectionReason }
`;

const ERROR = '... on Error { code message }';
const VALIDATION = '... on ValidationError { issues { path message } }';
const STATE = '... on InvalidTemplateStateError { status }';
const SENSITIVE = '... on SensitiveContentError { words }';

export const CREATE_TEMPLATE = /* GraphQL */ `
  mutation Create($input: CreateTemplateInput!) {
    createTemplate(input: $input) { __typename ... on CreateTemplateSuccess { data { ${TEMPLATE_FIELDS} } } ${ERROR} ${VALIDATION} }
  }
`;
export const UPDATE_TEMPLATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: UpdateTemplateInput!) {
    updateTemplate(id: $id, input: $input) { __typename ... on UpdateTemplateSuccess { data { ${TEMPLATE_FIELDS} } } ${ERROR} ${VALIDATION} ${STATE} }
  }
`;
export const SUBMIT_TEMPLATE = /* GraphQL */ `
  mutation Submit($id: ID!) {
    submitTemplate(id: $id) { __typename ... on SubmitTemplateSuccess { data { ${TEMPLATE_FIELDS} } } ${ERROR} ${VALIDATION} ${STATE} ${SENSITIVE} }
  }
`;
export const REVIEW_TEMPLATE = /* GraphQL */ `
  mutation Review($id: ID!, $approve: Boolean!, $reason: String) {
    reviewTemplate(id: $id, approve: $approve, reason: $reason) { __typename ... on ReviewTemplateSuccess { data { ${TEMPLATE_FIELDS} } } ${ERROR} ${VALIDATION} ${STATE} }
  }
`;
export const DELETE_TEMPLATE = /* GraphQL */ `
  mutation Delete($id: ID!) {
    deleteTemplate(id: $id) { __typename ... on DeleteTemplateSuccess { data { id deletedAt } } ${ERROR} }
  }
`;
export const GET_TEMPLATE = /* GraphQL */ `
  query Get($id: ID!) { template(id: $id) { ${TEMPLATE_FIELDS} } }
`;
export const LIST_TEMPLATES = /* GraphQL */ `
  query List($status: TemplateStatus, $first: Int) { templates(status: $status, first: $first) { edges { node { id name status } } } }
`;

export const SEND = /* GraphQL */ `
  mutation Send($input: SendMessageInput!) {
    sendMessage(input: $input) {
      __typename
      ... on SendMessageSuccess {
        data { id to body status category variables template { id name deletedAt } templateVersion { version body status } }
      }
      ... on Error { code message }
      ... on ValidationError { issues { path message } }
      ... on InvalidPhoneNumberError { input }
      ... on SensitiveContentError { words }
      ... on RecipientOptedOutError { phone }
      ... on TemplateNotApprovedError { status }
      ... on TemplateVariablesMismatchError { missing unknown }
      ... on RateLimitedError { retryAfterSeconds }
    }
  }
`;

export const UPDATE_SETTINGS = /* GraphQL */ `
  mutation Settings($input: AccountSettingsInput!) {
    updateAccountSettings(input: $input) {
      __typename
      ... on UpdateAccountSettingsSuccess { data { limits effectiveLimits otpBypassesOptOut } }
      ... on Error { code message }
      ... on ValidationError { issues { path message } }
    }
  }
`;

export type TemplateCategory = 'OTP' | 'NOTIFICATION' | 'MARKETING';

/** Runs a mutation and returns its (single) root field, failing on GraphQL errors. */
export async function mutate(caller: GraphQLCaller, document: string, variables: Record<string, unknown>): Promise<any> {
  const data = expectNoErrors(await caller(document, variables)) as Record<string, unknown>;
  return Object.values(data)[0];
}

export async function send(caller: GraphQLCaller, input: Record<string, unknown>): Promise<any> {
  return mutate(caller, SEND, { input });
}

export async function createDraft(caller: GraphQLCaller, body: string, category: TemplateCategory = 'NOTIFICATION', name?: string): Promise<any> {
  const result = await mutate(caller, CREATE_TEMPLATE, { input: { name: name ?? `tpl-${Math.random().toString(36).slice(2)}`, body, category } });
  expect(result.__typename, JSON.stringify(result)).toBe('CreateTemplateSuccess');
  return result.data;
}

/** A template taken through submit and approve by the account's ADMIN key; returns its id. */
export async function approvedTemplate(account: SeededAccount, body: string, category: TemplateCategory = 'NOTIFICATION'): Promise<string> {
  const { id } = await createDraft(account.admin, body, category);
  const submitted = await mutate(account.admin, SUBMIT_TEMPLATE, { id });
  expect(submitted.__typename, JSON.stringify(submitted)).toBe('SubmitTemplateSuccess');
  const approved = await mutate(account.admin, REVIEW_TEMPLATE, { id, approve: true });
  expect(approved.data.status).toBe('APPROVED');
  return id;
}

export async function setSettings(caller: GraphQLCaller, input: Record<string, unknown>): Promise<any> {
  return mutate(caller, UPDATE_SETTINGS, { input });
}

/** The number of messages the account has stored (through the API). */
export async function messageCount(caller: GraphQLCaller): Promise<number> {
  const data = expectNoErrors(await caller(`{ messages(first: 100) { edges { node { id } } } }`));
  return data.messages.edges.length;
}
