import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { InvalidPhoneNumberError, NotFoundError, TemplateVariablesMismatchError, ValidationError, type ValidationIssue } from './errors.js';
import { normalizePhoneNumber } from './phone.js';
import { analyzeBody, type Encoding } from './segments.js';
import { renderTemplate, type TemplateCategory } from './templates.js';
import { toValidationIssues } from './validation.js';

export interface SendMessageInput {
  to: string;
  body?: string | null;
  templateId?: string | null;
  variables?: unknown;
  from?: string | null;
  scheduledAt?: Date | null;
  idempotencyKey?: string | null;
  metadata?: unknown;
}

export interface DraftOptions {
  maxBodyLength: number;
  defaultCountry?: string | undefined;
  now: Date;
  /**
   * Internal (not in the API): the category of a plain-body message, for frequency limits and
   * the OTP opt-out rule. Verification codes are OTP in Herald's own text. Default: none.
   */
  plainBodyCategory?: TemplateCategory;
}

/** An approved template version, resolved by the caller. */
export interface DraftTemplate {
  id: string;
  versionId: string;
  body: string;
  variables: readonly string[];
  category: TemplateCategory;
}

/** A message ready to be stored: validated, normalised and measured. */
export interface MessageDraft {
  to: string;
  from: string | null;
  body: string;
  encoding: Encoding;
  segments: number;
  status: 'QUEUED' | 'SCHEDULED';
  scheduledAt: Date | null;
  idempotencyKey: string | null;
  metadata: Record<string, unknown> | null;
  variables: Record<string, unknown> | null;
  templateId: string | null;
  templateVersionId: string | null;
  category: TemplateCategory | null;
}

// Carriers and providers cap how far ahead a message may be scheduled (Twilio: 35 days).
const MAX_SCHEDULE_AHEAD_MS = 35 * 24 * 3600 * 1000;
const MAX_METADATA_BYTES = 4096;

const jsonObject = z.record(z.string(), z.unknown());

// Built once per body limit: building a zod schema costs more than using it, and bulk sends
// validate thousands of inputs per call.
const schemas = new Map<number, ReturnType<typeof buildInputSchema>>();
function inputSchema(maxBodyLength: number) {
  let schema = schemas.get(maxBodyLength);
  if (!schema) schemas.set(maxBodyLength, (schema = buildInputSchema(maxBodyLength)));
  return schema;
}

/**
 * Characters (code points) of `text`, counted only when they could exceed `max`: a string has
 * at least as many UTF-16 units as code points, so one of at most `max` units is within it.
 * A bulk send checks 10 000 bodies; spreading each into an array was most of the check.
 */
function characterCount(text: string, max: number): number {
  return text.length <= max ? text.length : [...text].length;
}

function buildInputSchema(maxBodyLength: number) {
  return z
    .object({
      to: z.string().trim().min(1, 'is required'),
      body: z
        .string()
        .refine((b) => b.trim().length > 0, 'must not be empty')
        .refine((b) => characterCount(b, maxBodyLength) <= maxBodyLength, `must be at most ${maxBodyLength} characters`)
        .nullish(),
      templateId: z.string().min(1).nullish(),
      variables: jsonObject.nullish(),
      from: z
        .string()
        .trim()
        .min(1, 'must not be empty')
        .max(20, 'must be at most 20 characters (a number or an 11-character sender id)')
        .nullish(),
      scheduledAt: z.date().nullish(),
      idempotencyKey: z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters').nullish(),
      metadata: jsonObject
        .refine((m) => JSON.stringify(m).length <= MAX_METADATA_BYTES, `must be at most ${MAX_METADATA_BYTES} bytes as JSON`)
        .nullish(),
    })
    .superRefine((input, ctx) => {
      const hasBody = input.body !== undefined && input.body !== null;
      const hasTemplate = input.templateId !== undefined && input.templateId !== null;
      if (hasBody === hasTemplate) {
        ctx.addIssue({ code: 'custom', path: hasBody ? ['templateId'] : ['body'], message: 'give exactly one of body or templateId' });
      }
      if (input.variables && !hasTemplate) {
        ctx.addIssue({ code: 'custom', path: ['variables'], message: 'variables are only used with templateId' });
      }
    });
}

/**
 * Validates and normalises a send request. Reports every malformed field at once; a
 * well-formed request whose only problem is the number gets InvalidPhoneNumberError.
 */
export function draftMessage(
  input: SendMessageInput,
  options: DraftOptions,
  template?: DraftTemplate,
): MessageDraft | ValidationError | InvalidPhoneNumberError | NotFoundError | TemplateVariablesMismatchError {
  const parsed = inputSchema(options.maxBodyLength).safeParse(input);
  const phone = normalizePhoneNumber(input.to ?? '', options.defaultCountry as CountryCode | undefined);
  const tooFarAhead = input.scheduledAt instanceof Date && input.scheduledAt.getTime() - options.now.getTime() > MAX_SCHEDULE_AHEAD_MS;
  if (!parsed.success || tooFarAhead) {
    const issues: ValidationIssue[] = parsed.success ? [] : toValidationIssues(parsed.error, ['input']);
    if (tooFarAhead) issues.push({ path: ['input', 'scheduledAt'], message: 'must be at most 35 days ahead' });
    if (!phone.ok && !issues.some((i) => i.path[1] === 'to')) issues.push({ path: ['input', 'to'], message: phone.error.message });
    return new ValidationError(issues);
  }
  if (!phone.ok) return phone.error;
  const data = parsed.data;
  let body: string;
  if (data.templateId) {
    if (!template || template.id !== data.templateId) return new NotFoundError(`template ${data.templateId}`);
    const rendered = renderTemplate(template.body, template.variables, data.variables);
    if (typeof rendered !== 'string') return rendered;
    if (characterCount(rendered, options.maxBodyLength) > options.maxBodyLength) {
      return new ValidationError([{ path: ['input', 'variables'], message: `the rendered body must be at most ${options.maxBodyLength} characters` }]);
    }
    body = rendered;
  } else body = data.body!;

  const analysis = analyzeBody(body);
  const scheduled = data.scheduledAt && data.scheduledAt.getTime() > options.now.getTime() ? data.scheduledAt : null;
  return {
    to: phone.e164,
    from: data.from ?? null,
    body,
    encoding: analysis.encoding,
    segments: analysis.segments,
    status: scheduled ? 'SCHEDULED' : 'QUEUED',
    scheduledAt: scheduled,
    idempotencyKey: data.idempotencyKey ?? null,
    metadata: data.metadata ?? null,
    variables: data.variables ?? null,
    templateId: template?.id ?? null,
    templateVersionId: template?.versionId ?? null,
    category: template?.category ?? options.plainBodyCategory ?? null,
  };
}
