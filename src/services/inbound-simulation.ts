// Asks the simulator provider for a handset reply. The reply takes the real path: the
// simulator POSTs a signed webhook, which the route verifies and stores like any provider's.
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../db/database.js';
import { ForbiddenError, ValidationError, type HeraldError } from '../domain/errors.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import { parseSenderIdentity } from '../domain/sender-identity.js';
import { SimulatorProvider } from '../providers/simulator/simulator.js';
import type { SmsProvider } from '../providers/types.js';
import { recordAudit, type AuditActor } from './audit.js';

type CountryCode = Parameters<typeof normalizePhoneNumber>[1];

export interface SimulateInboundInput {
  from: string;
  to: string;
  body: string;
}

/** The stored inbound message's id, or why no reply was simulated. */
export async function simulateInboundMessage(
  prisma: PrismaClient,
  providers: readonly SmsProvider[],
  accountId: string,
  input: SimulateInboundInput,
  options: { defaultCountry?: string | undefined; maxBodyLength: number },
  audit?: AuditActor,
): Promise<{ id: string } | HeraldError> {
  const simulator = providers.find((p): p is SimulatorProvider => p instanceof SimulatorProvider);
  if (!simulator) return new ForbiddenError('the simulator provider is not enabled (SMS_PROVIDERS)');

  const from = normalizePhoneNumber(input.from, options.defaultCountry as CountryCode | undefined);
  if (!from.ok) return from.error;
  const to = parseSenderIdentity(input.to, options.defaultCountry, ['to']);
  if (to instanceof ValidationError) return to;
  if ([...input.body].length > options.maxBodyLength) {
    return new ValidationError([{ path: ['body'], message: `must be at most ${options.maxBodyLength} characters` }]);
  }
  // Only to the caller's own numbers: otherwise one account could send STOP to another's.
  const owned = await prisma.senderIdentity.findFirst({ where: { value: to.value, accountId }, select: { id: true } });
  if (!owned) return new ValidationError([{ path: ['to'], message: "is not one of this account's sender identities" }]);

  // Our own id for it, as a real provider's message id, so the stored row can be found.
  const providerMessageId = `sim_in_${randomUUID().replaceAll('-', '')}`;
  const delivered = await simulator.simulateInbound({ from: from.e164, to: to.value, body: input.body, providerMessageId });
  if (!delivered) throw new Error('the simulator could not deliver the inbound message to the webhook (see the server log)');
  const stored = await prisma.inboundMessage.findUnique({
    where: { provider_providerMessageId: { provider: simulator.name, providerMessageId } },
    select: { id: true },
  });
  if (!stored) throw new Error('the simulated inbound message was accepted by the webhook but not stored');
  // The reply was stored by the webhook's own transaction (the real path): the entry follows it.
  if (audit) await recordAudit(prisma, audit, { action: 'simulator.inbound', subjectId: stored.id, phone: from.e164, after: { from: from.e164, to: to.value, body: input.body } });
  return stored;
}
