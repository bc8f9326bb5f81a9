// ADMIN-only fields, read from the schema itself (their `authScopes`), so that a new one is
// covered here without being listed: a SENDER key gets the same FORBIDDEN answer from each.
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/schema/index.js';
import { expectNoErrors, startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const schema = buildSchema();
const isAdminOnly = (field: GraphQLField<unknown, unknown>) =>
  (field.extensions as { pothosOptions?: { authScopes?: { admin?: boolean } } }).pothosOptions?.authScopes?.admin === true;
const adminFields = (type: GraphQLObjectType | null | undefined) => Object.values(type?.getFields() ?? {}).filter(isAdminOnly);

const adminQueries = adminFields(schema.getQueryType());
const adminMutations = adminFields(schema.getMutationType());

/** A literal of `type` that passes GraphQL validation: the refusal comes before any resolver reads it. */
function sampleLiteral(type: GraphQLInputType): string {
  if (isNonNullType(type)) return sampleLiteral(type.ofType);
  if (isListType(type)) return `[${sampleLiteral(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type));
    return `{ ${fields.map((f) => `${f.name}: ${sampleLiteral(f.type)}`).join(', ')} }`;
  }
  const samples: Record<string, string> = {
    ID: '"0190a0c0-0000-7000-8000-000000000000"',
    String: '"x"',
    Boolean: 'true',
    Int: '1',
    Float: '1',
    DateTime: '"2026-01-01T00:00:00Z"',
    JSON: '{}',
  };
  const sample = isScalarType(type) ? samples[type.name] : undefined;
  if (!sample) throw new Error(`no sample literal for ${type}: add one to sampleLiteral`);
  return sample;
}

/** `field(required args) selection`, as the field of an operation. */
function call(field: GraphQLField<unknown, unknown>, selection: string): string {
  const args = field.args.filter((a) => isNonNullType(a.type)).map((a) => `${a.name}: ${sampleLiteral(a.type)}`);
  return `${field.name}${args.length ? `(${args.join(', ')})` : ''} ${selection}`;
}

const forbidden = (fieldName: string) => `only an ADMIN key can use ${fieldName}`;

describe('ADMIN-only fields', () => {
  it('are found in the schema, the known ones among them', () => {
    expect(adminQueries.map((f) => f.name)).toEqual(expect.arrayContaining(['apiKeys', 'senderIdentities', 'webhookEndpoints', 'webhookDeliveries']));
    expect(adminMutations.map((f) => f.name)).toEqual(
      expect.arrayContaining(['createApiKey', 'revokeApiKey', 'reviewTemplate', 'updateAccountSettings', 'addSensitiveWordRule', 'createWebhookEndpoint']),
    );
  });

  it('are on Query and Mutation only (a nested one would need a path to reach it in this test)', () => {
    const nested = Object.values(schema.getTypeMap())
      .filter((type): type is GraphQLObjectType => isObjectType(type) && !['Query', 'Mutation'].includes(type.name))
      .flatMap((type) => adminFields(type).map((f) => `${type.name}.${f.name}`));
    expect(nested).toEqual([]);
  });

  it('answer every admin mutation to a SENDER key with the ForbiddenError member of its result', async () => {
    const { sender } = await t.seedAccount();
    for (const field of adminMutations) {
      const union = getNamedType(field.type);
      expect(union.name, field.name).toMatch(/Result$/);
      const data = expectNoErrors(await sender(`mutation { ${call(field, '{ __typename ... on Error { code message } }')} }`));
      expect(data[field.name], field.name).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN', message: forbidden(field.name) });
    }
  });

  it('answer every admin query to a SENDER key with one FORBIDDEN error and no data, in the same words', async () => {
    const { sender } = await t.seedAccount();
    for (const field of adminQueries) {
      // A scalar answer (exportPrices' CSV) takes no selection.
      const response = await sender(`{ ${call(field, isLeafType(getNamedType(field.type)) ? '' : '{ __typename }')} }`);
      // Every admin query is non-null, so the refusal nulls the whole `data`.
      expect(response.data ?? null, field.name).toBeNull();
      expect(response.errors, field.name).toEqual([
        expect.objectContaining({ message: forbidden(field.name), path: [field.name], extensions: { code: 'FORBIDDEN' } }),
      ]);
    }
  });

  it('still answer an ADMIN key: a query and a mutation', async () => {
    const { admin } = await t.seedAccount();
    expect(expectNoErrors(await admin(`{ apiKeys { name } }`)).apiKeys.map((k: { name: string }) => k.name).sort()).toEqual(['admin', 'sender']);
    const created = expectNoErrors(await admin(`mutation { createApiKey(name: "ci", role: SENDER) { __typename } }`));
    expect(created.createApiKey).toEqual({ __typename: 'CreateApiKeySuccess' });
  });
});
