// Tenancy of node(id:): every Relay node type must come from accountNode, whose lookups by id
// carry the caller's account. A node type declared with builder.prismaNode directly fails here.
import { isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ACCOUNT_SCOPED } from '../../src/schema/account-node.js';
import { buildSchema } from '../../src/schema/index.js';

describe('Relay node types', () => {
  it('are all declared with accountNode', () => {
    const nodes = Object.values(buildSchema().getTypeMap()).filter((type) => isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Node'));
    expect(nodes.map((type) => type.name)).toEqual(expect.arrayContaining(['Message', 'Template', 'ApiKey', 'WebhookEndpoint']));
    expect(nodes.filter((type) => type.extensions[ACCOUNT_SCOPED] !== true).map((type) => type.name)).toEqual([]);
  });
});
