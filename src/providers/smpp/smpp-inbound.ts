// Mobile-originated deliver_sm → InboundReport: addresses to E.164, text decoded by the
// `smpp` package per data_coding (0 GSM 03.38, 8 UCS-2, 3 Latin-1; the package also reads 1 as
// GSM), and concatenated parts (UDH IEI 0x00/0x08, or the sar_* TLVs) put back together.

import { readConcatenation, type Concatenation } from './smpp-encoding.js';
import type { SmppMessageValue, SmppPdu } from './smpp-session.js';
import type { InboundReport } from '../types.js';

const TON_UNKNOWN = 0;
const TON_INTERNATIONAL = 1;

export interface MoPart {
  from: string;
  to: string;
  text: string;
  concatenation?: Concatenation;
}

/**
 * A numeric address of international or unknown TON as E.164 (SMSCs commonly send TON 0 with
 * the full number); national, short-code and alphanumeric addresses verbatim.
 */
export function toE164(address: string, ton: number | undefined): string {
  const digits = address.replace(/^\+/, '');
  if (/^\d+$/.test(digits) && (ton === undefined || ton === TON_UNKNOWN || ton === TON_INTERNATIONAL)) return `+${digits}`;
  return address;
}

/** The text of a short_message or message_payload as the package decoded it. */
export function messageText(value: SmppPdu['short_message'] | SmppPdu['message_payload']): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  const message = (value as SmppMessageValue).message;
  return typeof message === 'string' ? message : message.toString('latin1');
}

export function readMoPart(pdu: SmppPdu): MoPart {
  // message_payload replaces short_message (then empty) for long single messages.
  const value = pdu.message_payload ?? pdu.short_message;
  const udh = typeof value === 'object' && value !== null && !Buffer.isBuffer(value) ? (value as SmppMessageValue).udh : undefined;
  const concatenation =
    readConcatenation(udh) ??
    (pdu.sar_msg_ref_num !== undefined && pdu.sar_total_segments !== undefined && pdu.sar_segment_seqnum !== undefined
      ? { reference: pdu.sar_msg_ref_num, total: pdu.sar_total_segments, sequence: pdu.sar_segment_seqnum }
      : undefined);
  return {
    from: toE164(pdu.source_addr ?? '', pdu.source_addr_ton),
    to: toE164(pdu.destination_addr ?? '', pdu.dest_addr_ton),
    text: messageText(value),
    ...(concatenation && concatenation.total > 1 ? { concatenation } : {}),
  };
}

interface Pending {
  parts: Map<number, string>;
  total: number;
  from: string;
  to: string;
  timer: NodeJS.Timeout;
}

/**
 * Collects the parts of concatenated replies. A reply whose parts never all arrive is handed
 * over with what did arrive after `timeoutMs`, rather than lost.
 */
export class MoAssembler {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly timeoutMs: number,
    private readonly onIncomplete: (report: InboundReport, missing: number) => void,
  ) {}

  /** The whole reply when this part completes it; undefined while parts are missing. */
  add(part: MoPart & { concatenation: Concatenation }): { report: InboundReport; undo(): void } | undefined {
    const { reference, total, sequence } = part.concatenation;
    const key = `${part.from}|${part.to}|${reference}|${total}`;
    let entry = this.pending.get(key);
    if (!entry) {
      const timer = setTimeout(() => this.expire(key), this.timeoutMs);
      timer.unref();
      entry = { parts: new Map(), total, from: part.from, to: part.to, timer };
      this.pending.set(key, entry);
    }
    entry.parts.set(sequence, part.text);
    if (entry.parts.size < total) return undefined;
    const complete = entry;
    this.pending.delete(key);
    clearTimeout(complete.timer);
    return {
      report: this.report(complete),
      // Handing over failed: keep the other parts and wait for the SMSC to redeliver this one.
      undo: () => {
        complete.parts.delete(sequence);
        const timer = setTimeout(() => this.expire(key), this.timeoutMs);
        timer.unref();
        this.pending.set(key, { ...complete, timer });
      },
    };
  }

  close(): void {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
  }

  private expire(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.pending.delete(key);
    this.onIncomplete(this.report(entry), entry.total - entry.parts.size);
  }

  private report(entry: Pending): InboundReport {
    const body = [...entry.parts.entries()].sort(([a], [b]) => a - b).map(([, text]) => text).join('');
    return { from: entry.from, to: entry.to, body, receivedAt: new Date() };
  }
}
