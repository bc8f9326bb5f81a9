// The `providers` query and template mappings for template-only providers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startDeliveryHerald, waitForStatus } from '../support/delivery.js';
import { expectNoErrors, type TestHerald } from '../support/herald.js';
import { approvedTemplate } from '../support/templates.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startDeliveryHerald();
});
afterAll(() => t.stop());

const PROVIDERS = /* GraphQL */ `
  { providers { name state circuit templateOnly submissions failures successRate latencyP50Ms latencyP99Ms windowSeconds inFlight ratePerSecond window lastError } }
`;

const MAP = /* GraphQL */ `
  mutation Map($id: ID!, $provider: String!, $code: String, $params: [String!]) {
    setTemplateProviderMapping(id: $id, provider: $provider, code: $code, params: $params) {
      __typename
      ... on SetTemplateProviderMappingSuccess { data { providerTemplates { provider code params } } }
      ... on Error { code message }
      ... on ValidationError { issues { path message } }
    }
  }
`;

describe('providers', () => {
  it("shows each configured provider's circuit and recent outcomes", async () => {
    const { sender } = await t.seedAccount();
    const message = await send(sender, { to: '+14155550100' });
    await waitForStatus(sender, message.id, 'DELIVERED');
    const [simulator] = expectNoErrors(await sender(PROVIDERS)).providers;
    expect(simulator).toMatchObject({ name: 'simulator', state: 'UP', circuit: 'CLOSED', templateOnly: false, failures: 0, successRate: 1, windowSeconds: 300, inFlight: 0, ratePerSecond: null, lastError: null });
    expect(simulator.submissions).toBeGreaterThanOrEqual(1);
    expect(simulator.latencyP50Ms).toBeGreaterThanOrEqual(0);
  });
});

describe('setTemplateProviderMapping', () => {
  it('maps a template to a provider template code with positional params, and removes it', async () => {
    const account = await t.seedAccount();
    const { admin, sender } = account;
    const template = { id: await approvedTemplate(account, 'Your code is {{code}}, valid {{minutes}} minutes') };
    const mapped = expectNoErrors(await admin(MAP, { id: template.id, provider: 'simulator', code: '1110', params: ['minutes', 'code'] })).setTemplateProviderMapping;
    expect(mapped).toEqual({ __typename: 'SetTemplateProviderMappingSuccess', data: { providerTemplates: [{ provider: 'simulator', code: '1110', params: ['minutes', 'code'] }] } });
    const read = expectNoErrors(await sender(`query($id: ID!) { template(id: $id) { providerTemplates { provider code params } } }`, { id: template.id }));
    expect(read.template.providerTemplates).toEqual([{ provider: 'simulator', code: '1110', params: ['minutes', 'code'] }]);
    const removed = expectNoErrors(await admin(MAP, { id: template.id, provider: 'simulator', code: null })).setTemplateProviderMapping;
    expect(removed.data.providerTemplates).toEqual([]);
  });

  it('refuses a SENDER key, an unconfigured provider, unknown params and other accounts\' templates', async () => {
    const account = await t.seedAccount();
    const { admin, sender } = account;
    const other = await t.seedAccount();
    const template = { id: await approvedTemplate(account, 'Hello {{name}}') };
    expect(expectNoErrors(await sender(MAP, { id: template.id, provider: 'simulator', code: 'X' })).setTemplateProviderMapping).toMatchObject({ code: 'FORBIDDEN' });
    const invalid = expectNoErrors(await admin(MAP, { id: template.id, provider: 'aliyun', code: ' ', params: ['name', 'nope'] })).setTemplateProviderMapping;
    expect(invalid.code).toBe('VALIDATION_FAILED');
    expect(invalid.issues.map((i: { path: string[] }) => i.path.join('.')).sort()).toEqual(['code', 'params', 'provider']);
    expect(expectNoErrors(await other.admin(MAP, { id: template.id, provider: 'simulator', code: 'X' })).setTemplateProviderMapping).toMatchObject({ code: 'NOT_FOUND' });
  });
});
