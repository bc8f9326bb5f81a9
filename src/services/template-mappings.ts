// A Herald template's counterpart at template-only providers (Aliyun TemplateCode, Tencent
// TemplateId): the provider reviews its own copy of the text, and Herald sends its code with
// the variables instead of the body.
import type { Prisma } from '../generated/prisma/client.js';
import { NotFoundError, ValidationError, type HeraldError } from '../domain/errors.js';
import type { ProviderTemplate } from '../providers/types.js';
import type { Store } from '../store/store.js';
import { recordAudit, type AuditActor } from './audit.js';

export interface MappingInput {
  provider: string;
  /** The provider's template code; null removes the mapping. */
  code: string | null;
  /** Herald variable names in the provider's parameter order (positional providers). */
  params?: string[] | null;
}

export function readMappings(value: Prisma.JsonValue | null): Record<string, ProviderTemplate> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as unknown as Record<string, ProviderTemplate>) : {};
}

export async function setTemplateProviderMapping(
  store: Pick<Store, 'prisma' | 'templates'>,
  accountId: string,
  id: string,
  input: MappingInput,
  options: { providers: readonly string[] },
  audit?: AuditActor,
): Promise<{ id: string } | HeraldError> {
  const template = await store.templates.findLive(accountId, id);
  if (!template) return new NotFoundError('template');
  const issues: { path: string[]; message: string }[] = [];
  if (!options.providers.includes(input.provider)) {
    issues.push({ path: ['provider'], message: `is not a configured provider (configured: ${options.providers.join(', ')})` });
  }
  const code = input.code?.trim() ?? null;
  if (input.code !== null && !code) issues.push({ path: ['code'], message: 'must not be empty (pass null to remove the mapping)' });
  if (code && code.length > 64) issues.push({ path: ['code'], message: 'must be at most 64 characters' });
  const variables = template.currentVersion.variables;
  const unknown = (input.params ?? []).filter((p) => !variables.includes(p));
  if (unknown.length) issues.push({ path: ['params'], message: `names variables the template does not have: ${unknown.join(', ')} (it has: ${variables.join(', ') || 'none'})` });
  if (issues.length) return new ValidationError(issues);

  const mappings = { ...readMappings(template.providerTemplates) };
  if (code) mappings[input.provider] = { code, ...(input.params && { params: input.params }) };
  else delete mappings[input.provider];
  await store.prisma.$transaction(async (tx) => {
    await tx.template.update({ where: { id: template.id }, data: { providerTemplates: mappings as unknown as Prisma.InputJsonValue } });
    if (audit) {
      const before = readMappings(template.providerTemplates)[input.provider] ?? null;
      await recordAudit(tx, audit, { action: 'template.mapProvider', subjectId: template.id, before: { provider: input.provider, mapping: before }, after: { provider: input.provider, mapping: mappings[input.provider] ?? null } });
    }
  });
  return { id: template.id };
}
