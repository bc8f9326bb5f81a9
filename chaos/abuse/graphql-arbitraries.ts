// fast-check arbitraries for requests to Herald's GraphQL endpoint, derived from the printed
// schema (schema.graphql), so a new operation or argument is fuzzed without touching this file:
// random root fields with random arguments (right and wrong types, huge, unicode, negative and
// huge numbers) and random selections, plus malformed bodies and odd headers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { repoRoot } from '../../bench/lib/processes.js';

type Gen = fc.GeneratorValue;

export interface FuzzRequest {
  kind: 'operation' | 'malformed' | 'headers' | 'get';
  method: 'POST' | 'GET';
  /** Appended to /graphql (GET requests carry the query here). */
  search: string;
  body?: string;
  headers: Record<string, string>;
}

export function loadSchema(): GraphQLSchema {
  return buildSchema(readFileSync(path.join(repoRoot, 'schema.graphql'), 'utf8'));
}

// Strings chosen to hurt: long, multi-byte, control characters, injection-shaped, template-shaped.
// None contains the words the leak check looks for (SELECT, INSERT, prisma…), so an answer that
// does contains Herald's words, not ours echoed.
const nastyStrings = [
  '',
  ' ',
  "' OR 1=1 --",
  "'; DROP TABLE \"Message\"; --",
  '{{name}}{{',
  '\u0000\u0001\u001f',
  '𝕳𝖊𝖗𝖆𝖑𝖉 😀👩‍👩‍👧‍👦',
  '\u202e\u200b\ufeff',
  '+8613800138000',
  '+15550100',
  '12345678901234567890123456789',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '%s%n%x',
  'NaN',
  'null',
];

const stringArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...nastyStrings) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', 'é', '漢', '😀'), fc.integer({ min: 1_000, max: 100_000 })).map(([c, n]) => c.repeat(n)) },
);

const intArb = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53, -(2 ** 53), 1e21), fc.double({ noNaN: true }));

function idArb(schema: GraphQLSchema): fc.Arbitrary<string> {
  const nodeTypes = Object.values(schema.getTypeMap())
    .filter((t) => isObjectType(t) && t.getInterfaces().some((i) => i.name === 'Node'))
    .map((t) => t.name);
  return fc.oneof(
    fc.uuid(),
    fc.tuple(fc.constantFrom(...nodeTypes, 'Account', 'Nope'), fc.oneof(fc.uuid(), stringArb)).map(([type, id]) => Buffer.from(`${type}:${id}`).toString('base64')),
    stringArb,
  );
}

const wrongTypeArb: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(null), fc.boolean(), intArb, stringArb);

function scalarArb(name: string, schema: GraphQLSchema): fc.Arbitrary<unknown> {
  switch (name) {
    case 'String':
      return stringArb;
    case 'Int':
    case 'Float':
      return intArb;
    case 'Boolean':
      return fc.boolean();
    case 'ID':
      return idArb(schema);
    case 'DateTime':
      return fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('2024-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', 'yesterday'), intArb);
    case 'JSON':
      return fc.jsonValue({ maxDepth: 4 });
    default:
      return wrongTypeArb;
  }
}

/** A value for `type`: usually of that type, sometimes of a wrong one (a tenth at every level). */
function inputValue(g: Gen, type: GraphQLInputType, schema: GraphQLSchema, depth: number): unknown {
  if (g(fc.integer, { min: 0, max: 9 }) === 0) return g(() => wrongTypeArb);
  if (isNonNullType(type)) return inputValue(g, type.ofType, schema, depth);
  if (isListType(type)) {
    // Now and then a long list (sendMessages takes up to 10 000 recipients; more must be refused).
    const length = g(() => fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(0, 1, 50, 10_001)));
    const one = inputValue(g, type.ofType, schema, depth + 1);
    // Long lists repeat one small element: 10 001 copies of a 200 KB string would be 2 GB.
    const small = (JSON.stringify(one) ?? '').length <= 200;
    return Array.from({ length: small ? length : Math.min(length, 4) }, (_, i) => (i < 4 ? inputValue(g, type.ofType, schema, depth + 1) : one));
  }
  if (isScalarType(type)) return g(() => scalarArb(type.name, schema));
  if (isEnumType(type)) return g(() => fc.oneof(fc.constantFrom(...type.getValues().map((v) => v.name)), stringArb));
  if (isInputObjectType(type)) {
    if (depth > 4) return {};
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      const required = isNonNullType(field.type);
      if (required ? g(fc.integer, { min: 0, max: 19 }) > 0 : g(fc.boolean)) value[field.name] = inputValue(g, field.type, schema, depth + 1);
    }
    if (g(fc.integer, { min: 0, max: 9 }) === 0) value[g(fc.constantFrom, '__proto__', 'constructor', 'unknownField')] = g(() => wrongTypeArb);
    return value;
  }
  return null;
}

interface Built {
  text: string;
  variables: Record<string, unknown>;
  declarations: string[];
}

function argumentsOf(g: Gen, field: GraphQLField<unknown, unknown>, schema: GraphQLSchema, built: Built): string {
  const parts: string[] = [];
  for (const arg of field.args) {
    const required = isNonNullType(arg.type);
    // Required arguments are usually given (a document without them never reaches a resolver).
    if (!(required ? g(fc.integer, { min: 0, max: 19 }) > 0 : g(fc.boolean))) continue;
    const name = `v${built.declarations.length}`;
    // Declared as its schema type, or (rarely) as a wrong one the validator must refuse.
    const declared = g(fc.integer, { min: 0, max: 19 }) === 0 ? g(fc.constantFrom, 'String', 'Int', 'JSON', '[ID!]') : String(arg.type);
    built.declarations.push(`$${name}: ${declared}`);
    built.variables[name] = inputValue(g, arg.type, schema, 0);
    parts.push(`${arg.name}: $${name}`);
  }
  return parts.length ? `(${parts.join(', ')})` : '';
}

function selection(g: Gen, type: GraphQLOutputType, schema: GraphQLSchema, built: Built, depth: number): string {
  const named = getNamedType(type) as GraphQLNamedType;
  if (isScalarType(named) || isEnumType(named)) return '';
  if (depth > 3) return '{ __typename }';
  if (isUnionType(named) || isInterfaceType(named)) {
    const members = isUnionType(named) ? named.getTypes() : schema.getPossibleTypes(named);
    const chosen = g(() => fc.subarray([...members], { minLength: 1 }));
    return `{ __typename ${chosen.map((m) => `... on ${m.name} ${selection(g, m, schema, built, depth + 1)}`).join(' ')} }`;
  }
  if (!isObjectType(named)) return '';
  const fields = Object.values(named.getFields());
  const chosen = g(() => fc.subarray(fields, { minLength: 1, maxLength: Math.min(6, fields.length) }));
  const parts = chosen.map((f) => `${f.name}${argumentsOf(g, f, schema, built)} ${selection(g, f.type, schema, built, depth + 1)}`);
  return `{ ${parts.join(' ')} }`;
}

function operation(g: Gen, schema: GraphQLSchema): { query: string; variables: Record<string, unknown> } {
  const root = g(fc.constantFrom, 'query', 'query', 'mutation') === 'query' ? schema.getQueryType()! : schema.getMutationType()!;
  const fields = g(() => fc.subarray(Object.values(root.getFields()), { minLength: 1, maxLength: 3 }));
  const built: Built = { text: '', variables: {}, declarations: [] };
  const body = fields.map((f, i) => `f${i}: ${f.name}${argumentsOf(g, f, schema, built)} ${selection(g, f.type, schema, built, 1)}`).join(' ');
  const keyword = root === schema.getQueryType() ? 'query' : 'mutation';
  const query = `${keyword} Fuzz${built.declarations.length ? `(${built.declarations.join(', ')})` : ''} { ${body} }`;
  return { query, variables: built.variables };
}

const malformedBodies: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', '{', '{"query":', 'null', '[]', '[{}]', '"query"', '{"query":null}', '{"query":123}', '{"query":"{ viewer { apiKey { id } }","variables":"x"}', '{"query":"{ viewer { __typename } }","variables":[1]}', '{"query":"{ viewer { __typename } }","operationName":{}}', '{"query":"query A { viewer { __typename } } query B { viewer { __typename } }"}', '{"query":"{ __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }"}'),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => `{"query":"${'{ viewer '.repeat(n)}"}`),
  fc.integer({ min: 1_000, max: 50_000 }).map((n) => `{"query":"{ viewer { __typename } }","variables":{"a":${'['.repeat(n)}${']'.repeat(n)}}}`),
  fc.integer({ min: 100, max: 5_000 }).map((n) => JSON.stringify({ query: `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { __typename }`).join(' ')} }` })),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
);

const contentTypes = ['application/json', 'application/json; charset=utf-16', 'text/plain', 'application/graphql', 'application/graphql-response+json', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', '', 'application/json; charset=ebcdic'];

/** One fuzz request; `key` is a valid key of the account under test. */
export function requestArb(schema: GraphQLSchema, key: string): fc.Arbitrary<FuzzRequest> {
  const json = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  const op = fc.gen().map((g) => operation(g, schema));
  return fc.oneof(
    { weight: 16, arbitrary: op.map((o): FuzzRequest => ({ kind: 'operation', method: 'POST', search: '', body: JSON.stringify(o), headers: json })) },
    { weight: 2, arbitrary: malformedBodies.map((body): FuzzRequest => ({ kind: 'malformed', method: 'POST', search: '', body, headers: json })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(op, fc.constantFrom(...contentTypes), fc.dictionary(fc.stringMatching(/^x-[a-z-]{1,20}$/), fc.string({ maxLength: 200 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')), { maxKeys: 4 }), fc.constantFrom('*/*', 'text/event-stream', 'application/graphql-response+json', 'text/html', 'application/xml', 'multipart/mixed'))
        .map(([o, contentType, extra, accept]): FuzzRequest => ({ kind: 'headers', method: 'POST', search: '', body: JSON.stringify(o), headers: { ...extra, ...(contentType ? { 'content-type': contentType } : {}), accept, authorization: `Bearer ${key}` } })),
    },
    {
      weight: 1,
      arbitrary: op.map((o): FuzzRequest => ({ kind: 'get', method: 'GET', search: `?${new URLSearchParams({ query: o.query, variables: JSON.stringify(o.variables) })}`, headers: { authorization: `Bearer ${key}`, accept: 'application/json' } })),
    },
  );
}
