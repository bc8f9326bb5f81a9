// Reading an SMSC delivery receipt (deliver_sm with esm_class 0x04). SMPP 3.4 Appendix B only
// suggests the text format, so SMSCs vary: field names in any case, "Text:" or "text:", dates of
// 10 or 12 digits, ids in decimal or hex. The receipted_message_id and message_state TLVs
// (§5.3.2.12, §5.3.2.35), when present, are exact and win over the text.

import { messageStateWords } from './smpp-status.js';

export interface ParsedReceipt {
  /** The SMSC's id for the message, as the receipt gives it (TLV first, else `id:`). */
  messageId: string;
  /** The Appendix B word (`DELIVRD`, `UNDELIV`, …), upper-cased. */
  stat: string;
  /** The `err:` field (network or SMSC specific), or the network_error_code TLV. */
  err?: string;
}

// `id:` up to the next space; other fields by name. "submit date" and "done date" contain a space.
const ID = /(?:^|\s)id:(\S+)/i;
const STAT = /(?:^|\s)stat:(\S+)/i;
const ERR = /(?:^|\s)err:(\S+)/i;

export interface ReceiptTlvs {
  receipted_message_id?: string;
  message_state?: number;
  network_error_code?: Buffer;
}

/** Undefined when neither the text nor the TLVs say which message and what state. */
export function parseReceipt(text: string, tlvs: ReceiptTlvs = {}): ParsedReceipt | undefined {
  const messageId = tlvs.receipted_message_id?.trim() || ID.exec(text)?.[1];
  const stateWord = tlvs.message_state === undefined ? undefined : messageStateWords[tlvs.message_state];
  const stat = stateWord ?? STAT.exec(text)?.[1]?.toUpperCase();
  if (!messageId || !stat) return undefined;
  const err = ERR.exec(text)?.[1] ?? formatNetworkError(tlvs.network_error_code);
  return err === undefined ? { messageId, stat } : { messageId, stat, err };
}

/** network_error_code is 3 octets: network type (1 ANSI-136, 2 IS-95, 3 GSM, …) and a 16-bit code. */
function formatNetworkError(value: Buffer | undefined): string | undefined {
  if (!value || value.length < 3) return undefined;
  return `${value[0]}:${value.readUInt16BE(1)}`;
}

/**
 * Keys under which one SMSC message id is remembered and looked up. An SMSC may answer
 * submit_sm_resp in hex and write receipts in decimal (or the reverse), and pad with zeros:
 * both spellings are tried, case-insensitively, without leading zeros.
 */
export function messageIdKeys(id: string): string[] {
  const trimmed = id.trim().toLowerCase();
  const keys = new Set([stripZeros(trimmed)]);
  if (/^[0-9]+$/.test(trimmed) && trimmed.length <= 30) keys.add(`x${BigInt(trimmed).toString(16)}`);
  if (/^[0-9a-f]+$/.test(trimmed) && trimmed.length <= 24) keys.add(`x${stripZeros(trimmed)}`);
  return [...keys];
}

function stripZeros(value: string): string {
  return value.replace(/^0+(?=.)/, '');
}
