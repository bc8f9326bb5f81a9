// SMPP 3.4 adapter: one transceiver bind to an SMSC (smpp-connection.ts). Submissions are
// submit_sm (long bodies as concatenated parts); delivery receipts and replies arrive as
// deliver_sm on the same connection and go to `events`, answered only once Herald stored them.
// SMPP has no webhooks: the webhook routes refuse every call for this provider.
//
// The bind starts at construction (unless `connect: 'lazy'`): receipts for messages sent
// before a restart, and replies, only arrive while bound.

import { createHash } from 'node:crypto';
import type { SmppConfig } from '../../config/config.js';
import type { Logger } from '../../logging/logger.js';
import { SmppConnection, parseSmppUrl, type SubmitOutcome } from './smpp-connection.js';
import { splitBody, type SplitBody } from './smpp-encoding.js';
import { MoAssembler, messageText, readMoPart } from './smpp-inbound.js';
import { SmppMemory } from './smpp-memory.js';
import { parseReceipt } from './smpp-receipt.js';
import type { SmppPdu, SmppPduFields } from './smpp-session.js';
import { classifyCommandStatus, formatCommandStatus, mapReceiptState, messageStateWords } from './smpp-status.js';
import {
  WebhookPayloadError,
  type OutboundMessage,
  type ProviderEvents,
  type SendResult,
  type SentMessageRef,
  type SmsProvider,
  type StatusReport,
  type InboundReport,
  type WebhookRequest,
} from '../types.js';

/** Tuning with defaults for production; tests shorten the timers. */
export interface SmppTuning {
  /** `eager` (default) binds at construction; `lazy` at the first send. */
  connect: 'eager' | 'lazy';
  /** How long a send waits for a bind in progress. Default `timeoutMs`. */
  bindWaitMs: number;
  /** Connect plus bind answer. Default 10 000. */
  bindTimeoutMs: number;
  /** Reconnect backoff: first delay and cap (jittered between half and all of it). Default 1 000 and 60 000. */
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** Messages whose part ids are remembered (resubmission, receipt mapping). Default 100 000. */
  maxRemembered: number;
  /** How long the parts of a concatenated reply are waited for. Default 300 000. */
  moReassemblyMs: number;
}

/** `name`: the provider's name in Herald (routes, logs); default smpp. */
export type SmppOptions = SmppConfig & { name?: string; timeoutMs: number; events: ProviderEvents; logger: Logger } & Partial<SmppTuning>;

const E164 = /^\+[1-9]\d{1,14}$/;
const TON_INTERNATIONAL = 1;
const TON_ALPHANUMERIC = 5;
const NPI_ISDN = 1;
const NPI_UNKNOWN = 0;
/** esm_class message-type bits (§5.2.12): MC delivery receipt, intermediate delivery notification. */
const ESM_TYPE_MASK = 0x3c;
const ESM_DELIVERY_RECEIPT = 0x04;
const ESM_INTERMEDIATE_NOTIFICATION = 0x20;
const ESME_ROK = 0x00;
/** ESME_RX_T_APPN: "temporary application error", the SMSC keeps the deliver_sm and redelivers. */
const ESME_RX_T_APPN = 0x64;

export class SmppProvider implements SmsProvider {
  readonly name: string;
  private readonly connection: SmppConnection;
  private readonly memory: SmppMemory;
  private readonly assembler: MoAssembler;
  private readonly logger: Logger;
  private closed = false;

  constructor(readonly options: SmppOptions) {
    this.name = options.name ?? 'smpp';
    this.logger = options.logger;
    this.memory = new SmppMemory(options.maxRemembered);
    this.assembler = new MoAssembler(options.moReassemblyMs ?? 300_000, (report, missing) => {
      this.logger.warn({ from: report.from, missing }, 'smpp: concatenated reply incomplete; handing over the parts that arrived');
      this.options.events.inbound(this.name, [report]).catch((error: unknown) => this.logger.error({ err: error }, 'smpp: could not store an incomplete reply'));
    });
    this.connection = new SmppConnection({
      endpoint: parseSmppUrl(options.url),
      window: options.window,
      enquireLinkMs: options.enquireLinkMs,
      timeoutMs: options.timeoutMs,
      bindWaitMs: options.bindWaitMs ?? options.timeoutMs,
      bindTimeoutMs: options.bindTimeoutMs ?? 10_000,
      reconnectInitialMs: options.reconnectInitialMs ?? 1_000,
      reconnectMaxMs: options.reconnectMaxMs ?? 60_000,
      logger: options.logger,
      onDeliver: (pdu) => this.onDeliver(pdu),
    });
    if ((options.connect ?? 'eager') === 'eager') this.connection.start();
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    if (this.closed) return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', message: 'smpp provider is closed' };
    // A resubmission of a message the SMSC already acknowledged (its answer came after our
    // timeout) is the same message: same id, nothing sent again.
    const known = this.memory.accepted(message.id);
    if (known) return { kind: 'accepted', providerMessageId: known, rawStatus: 'ESME_ROK' };
    if (!E164.test(message.to)) {
      return { kind: 'rejected', errorCode: 'INVALID_NUMBER', rawCode: 'invalid_destination', message: `${message.to} is not E.164` };
    }
    let split: SplitBody;
    try {
      split = splitBody(message.body, message.encoding, referenceByte(message.id));
    } catch (error) {
      return { kind: 'rejected', errorCode: 'CONTENT_REJECTED', rawCode: 'too_many_parts', message: (error as Error).message };
    }
    const total = split.parts.length;
    const partIds = this.memory.acknowledgedParts(message.id, total);
    for (const [index, part] of split.parts.entries()) {
      if (partIds[index] !== undefined) continue; // acknowledged on an earlier attempt
      const fields: SmppPduFields = {
        ...this.addresses(message),
        esm_class: 0, // the package adds UDHI (0x40) when the part has a UDH
        registered_delivery: 1,
        data_coding: split.dataCoding,
        short_message: part.udh ? { udh: part.udh, message: part.text } : part.text,
      };
      const outcome = await this.connection.submit(fields, (late) => {
        if (late.command_status === ESME_ROK && late.message_id) this.memory.recordPart(message.id, total, index, late.message_id);
      });
      const failure = this.classify(outcome, index, total);
      if (failure) return failure;
      if (outcome.kind === 'response') {
        partIds[index] = outcome.messageId;
        this.memory.recordPart(message.id, total, index, outcome.messageId);
      }
    }
    return { kind: 'accepted', providerMessageId: partIds[0] ?? '', rawStatus: 'ESME_ROK' };
  }

  /** SMPP has no webhooks: every call to its routes is refused. */
  verifyWebhook(_request: WebhookRequest): boolean {
    return false;
  }

  parseStatusReport(_request: WebhookRequest): StatusReport[] {
    throw new WebhookPayloadError(this.name, 'SMPP delivery receipts arrive on the SMPP connection, not by webhook');
  }

  parseInbound(_request: WebhookRequest): InboundReport[] {
    throw new WebhookPayloadError(this.name, 'SMPP replies arrive on the SMPP connection, not by webhook');
  }

  /**
   * query_sm for the message's first part (§4.8). Many SMSCs do not implement it; any refusal
   * or a non-final state is "nothing to say yet".
   */
  async queryStatus(message: SentMessageRef): Promise<StatusReport | undefined> {
    if (this.closed) return undefined;
    const source = this.options.sourceAddr;
    const response = await this.connection.request('query_sm', {
      message_id: message.providerMessageId,
      ...(source ? sourceAddress(source) : {}),
    });
    if (!response || response.command_status !== ESME_ROK || response.message_state === undefined) return undefined;
    const word = messageStateWords[response.message_state] ?? String(response.message_state);
    const rule = mapReceiptState(word);
    if (rule.status === 'SENT') return undefined;
    return {
      reference: message.id,
      providerMessageId: message.providerMessageId,
      status: rule.status,
      rawStatus: word,
      ...(rule.errorCode ? { errorCode: rule.errorCode } : {}),
      ...(response.error_code ? { rawErrorCode: String(response.error_code) } : {}),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.assembler.close();
    await this.connection.close();
  }

  private addresses(message: OutboundMessage): SmppPduFields {
    const source = message.from ?? this.options.sourceAddr;
    return {
      ...(source ? sourceAddress(source) : {}),
      dest_addr_ton: TON_INTERNATIONAL,
      dest_addr_npi: NPI_ISDN,
      destination_addr: message.to.slice(1),
    };
  }

  /** The SendResult for a part that was not acknowledged; undefined when it was. */
  private classify(outcome: SubmitOutcome, index: number, total: number): SendResult | undefined {
    const which = total > 1 ? ` (part ${index + 1} of ${total})` : '';
    switch (outcome.kind) {
      case 'response': {
        if (outcome.status === ESME_ROK) return undefined;
        const rule = classifyCommandStatus(outcome.status);
        const rawCode = formatCommandStatus(outcome.status);
        const text = `SMSC answered ${rule.name} ${rawCode}${which}`;
        return rule.kind === 'rejected'
          ? { kind: 'rejected', errorCode: rule.errorCode, rawCode, message: text }
          : { kind: 'retryable', errorCode: rule.errorCode, rawCode, message: text };
      }
      case 'unbound':
        if (outcome.bindStatus !== undefined && classifyCommandStatus(outcome.bindStatus).errorCode === 'ACCOUNT_ERROR') {
          const rawCode = formatCommandStatus(outcome.bindStatus);
          return { kind: 'retryable', errorCode: 'ACCOUNT_ERROR', rawCode, message: `SMSC refused the bind (${classifyCommandStatus(outcome.bindStatus).name} ${rawCode})` };
        }
        return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'not_bound', message: `not bound to the SMSC; nothing was sent${which}` };
      case 'window-timeout':
        return { kind: 'retryable', errorCode: 'TIMEOUT', rawCode: 'window_full', message: `no free window slot within the timeout; nothing was sent${which}` };
      case 'response-timeout':
        return { kind: 'retryable', errorCode: 'TIMEOUT', rawCode: 'submit_sm_resp_timeout', message: `no submit_sm_resp in time${which}`, maybeAccepted: true };
      case 'connection-lost':
        return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'connection_lost', message: `connection lost before the submit_sm_resp${which}`, maybeAccepted: true };
      default:
        return outcome satisfies never;
    }
  }

  /** Resolves to the deliver_sm_resp command_status. */
  private async onDeliver(pdu: SmppPdu): Promise<number> {
    const type = (pdu.esm_class ?? 0) & ESM_TYPE_MASK;
    if (type === ESM_DELIVERY_RECEIPT || type === ESM_INTERMEDIATE_NOTIFICATION) return this.onReceipt(pdu);
    if (type !== 0) {
      // SME delivery/manual acknowledgements: nothing Herald records.
      this.logger.debug({ esmClass: pdu.esm_class }, 'smpp: ignoring an SME acknowledgement');
      return ESME_ROK;
    }
    return this.onReply(pdu);
  }

  private async onReceipt(pdu: SmppPdu): Promise<number> {
    const text = messageText(pdu.message_payload ?? pdu.short_message);
    const receipt = parseReceipt(text, pdu);
    if (!receipt) {
      // A redelivery would not read any better: acknowledge, and say so.
      this.logger.warn({ text }, 'smpp: unreadable delivery receipt ignored');
      return ESME_ROK;
    }
    const rule = mapReceiptState(receipt.stat);
    // A receipt can arrive in the same socket read as the submit_sm_resp it follows: the
    // package emits both synchronously, before send() has recorded the part's id (its
    // continuation is a pending microtask). Yield once so that record lands first.
    let part = this.memory.find(receipt.messageId);
    if (!part) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      part = this.memory.find(receipt.messageId);
    }
    if (part && !this.memory.shouldReport(part, rule.status)) return ESME_ROK;
    const report: StatusReport = {
      ...(part ? { reference: part.reference } : {}),
      providerMessageId: part?.providerMessageId ?? receipt.messageId,
      status: rule.status,
      rawStatus: receipt.stat,
      ...(rule.errorCode ? { errorCode: rule.errorCode } : {}),
      ...(receipt.err !== undefined ? { rawErrorCode: receipt.err } : {}),
    };
    return this.handOver(() => this.options.events.statusReports(this.name, [report]));
  }

  private async onReply(pdu: SmppPdu): Promise<number> {
    const part = readMoPart(pdu);
    if (!part.concatenation) {
      return this.handOver(() => this.options.events.inbound(this.name, [{ from: part.from, to: part.to, body: part.text, receivedAt: new Date() }]));
    }
    const complete = this.assembler.add({ ...part, concatenation: part.concatenation });
    if (!complete) return ESME_ROK; // kept until the other parts arrive
    const status = await this.handOver(() => this.options.events.inbound(this.name, [complete.report]));
    if (status !== ESME_ROK) complete.undo();
    return status;
  }

  /** ESME_ROK once Herald stored it; a temporary error otherwise, so the SMSC delivers it again. */
  private async handOver(store: () => Promise<void>): Promise<number> {
    try {
      await store();
      return ESME_ROK;
    } catch (error) {
      this.logger.error({ err: error }, 'smpp: could not store a deliver_sm; asking the SMSC to redeliver');
      return ESME_RX_T_APPN;
    }
  }
}

/** Alphanumeric sender ids go as TON 5; numbers (with or without '+') as international. */
function sourceAddress(source: string): SmppPduFields {
  const digits = source.replace(/^\+/, '');
  if (/^\d+$/.test(digits)) return { source_addr_ton: TON_INTERNATIONAL, source_addr_npi: NPI_ISDN, source_addr: digits };
  return { source_addr_ton: TON_ALPHANUMERIC, source_addr_npi: NPI_UNKNOWN, source_addr: source };
}

/** The concatenation reference for a message: stable across its resubmissions. */
function referenceByte(id: string): number {
  return createHash('sha256').update(id).digest()[0];
}
