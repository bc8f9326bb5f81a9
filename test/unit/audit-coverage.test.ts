// Every administrative mutation has an audit entry. The map below says which action(s) each
// mutation records; a new ADMIN (or operator) mutation without a line here fails the first test,
// and a line whose action no service records fails the second. Mutations that are not
// administrative are listed with the reason, so that every mutation is a decision.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, type AuditAction } from '../../src/domain/audit.js';
import { buildSchema } from '../../src/schema/index.js';

const AUDITED: Record<string, AuditAction[]> = {
  createApiKey: ['apiKey.create'],
  revokeApiKey: ['apiKey.revoke'],
  createTemplate: ['template.create'],
  updateTemplate: ['template.update'],
  submitTemplate: ['template.submit'],
  reviewTemplate: ['template.approve', 'template.reject'],
  deleteTemplate: ['template.delete'],
  setTemplateProviderMapping: ['template.mapProvider'],
  updateAccountSettings: ['settings.update'],
  addSensitiveWordRule: ['sensitiveWord.add'],
  removeSensitiveWordRule: ['sensitiveWord.remove'],
  addOptOut: ['optOut.add'],
  removeOptOut: ['optOut.remove'],
  addSenderIdentity: ['senderIdentity.add'],
  removeSenderIdentity: ['senderIdentity.remove'],
  setPrice: ['price.set'],
  removePrice: ['price.remove'],
  importPrices: ['price.import'],
  setBudget: ['budget.set'],
  removeBudget: ['budget.remove'],
  addProvider: ['provider.add'],
  updateProvider: ['provider.update', 'provider.enable', 'provider.disable'],
  removeProvider: ['provider.remove'],
  setRouting: ['routing.set'],
  resetRouting: ['routing.reset'],
  createWebhookEndpoint: ['webhookEndpoint.create'],
  updateWebhookEndpoint: ['webhookEndpoint.update'],
  deleteWebhookEndpoint: ['webhookEndpoint.delete'],
  rotateWebhookSecret: ['webhookEndpoint.rotateSecret'],
  retryWebhookDelivery: ['webhookDelivery.retry'],
  simulateInboundMessage: ['simulator.inbound'],
  setRetentionPolicy: ['retention.set'],
  eraseRecipientData: ['recipient.erase'],
};

const NOT_ADMINISTRATIVE: Record<string, string> = {
  sendMessage: 'traffic: the message itself is the record (with its events)',
  sendMessages: 'traffic: the batch and its messages are the record',
  cancelMessage: 'traffic: the CANCELED event records it',
  startVerification: 'traffic: the verification row records it',
  checkVerification: 'traffic: the verification row records it',
  createAccessToken: "a short-lived credential of the calling key (the console's sign-in), changing nothing",
};

/** Actions no mutation records, with where they are recorded. */
const RESERVED: Partial<Record<AuditAction, string>> = {
  'backup.download': 'GET /admin/backup (src/http/backup-route.ts), not a mutation',
};

type Scopes = { admin?: boolean; operator?: boolean };
const mutations = Object.values(buildSchema().getMutationType()!.getFields());
const scopesOf = (field: (typeof mutations)[number]) => (field.extensions as { pothosOptions?: { authScopes?: Scopes } }).pothosOptions?.authScopes;

const SERVICES = join(import.meta.dirname, '../../src/services');
const serviceSources = readdirSync(SERVICES)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(join(SERVICES, f), 'utf8'))
  .filter((text) => text.includes('recordAudit('));

describe('audit coverage', () => {
  it('every ADMIN and operator mutation records an action', () => {
    const privileged = mutations.filter((f) => scopesOf(f)?.admin || scopesOf(f)?.operator).map((f) => f.name);
    expect(privileged.length).toBeGreaterThan(20);
    expect(privileged.filter((name) => !AUDITED[name]?.length)).toEqual([]);
  });

  it('every mutation is either audited or listed as not administrative, and no list names a mutation that is gone', () => {
    const names = mutations.map((f) => f.name);
    expect(names.filter((n) => !(n in AUDITED) && !(n in NOT_ADMINISTRATIVE))).toEqual([]);
    expect([...Object.keys(AUDITED), ...Object.keys(NOT_ADMINISTRATIVE)].filter((n) => !names.includes(n))).toEqual([]);
    expect(Object.keys(AUDITED).filter((n) => n in NOT_ADMINISTRATIVE)).toEqual([]);
  });

  it("each mapped action is a known one that a service records (a literal in a file calling recordAudit, or configuration's derived names)", () => {
    const recorded = (action: string) =>
      serviceSources.some((text) => text.includes(`'${action}'`)) ||
      // services/configuration.ts derives provider.* and routing.* from its change log's action.
      /^(provider|routing)\./.test(action);
    for (const actions of Object.values(AUDITED)) {
      for (const action of actions) {
        expect(AUDIT_ACTIONS, action).toHaveProperty([action]);
        expect(recorded(action), `${action} is recorded by a service`).toBe(true);
      }
    }
  });

  it('every known action is mapped from a mutation or reserved', () => {
    const mapped = new Set(Object.values(AUDITED).flat());
    expect(Object.keys(AUDIT_ACTIONS).filter((a) => !mapped.has(a as AuditAction) && !(a in RESERVED))).toEqual([]);
  });
});
