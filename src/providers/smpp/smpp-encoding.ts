// How a body becomes submit_sm short_messages: GSM 03.38 (data_coding 0) or UCS-2
// (data_coding 8), split into concatenated parts with a 6-byte UDH (3GPP TS 23.040 §9.2.3.24.1:
// IEI 0x00, 8-bit reference, total, sequence) when it does not fit in one message.

import type { Encoding } from '../../domain/segments.js';

// GSM 03.38 default alphabet and its escape-table extension (each extension char costs 2 septets).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENDED = new Set('\f^{}\\[~]|€');

export const DATA_CODING_GSM = 0x00;
export const DATA_CODING_UCS2 = 0x08;
export const ESM_CLASS_UDHI = 0x40;

/** Septets per message: whole, and per part once 6 UDH octets (7 septets) are taken. */
const GSM_SINGLE = 160;
const GSM_PART = 153;
/** UTF-16 code units per message: whole, and per part after the UDH. */
const UCS2_SINGLE = 70;
const UCS2_PART = 67;
/** Parts a concatenated message can have (the total is one octet). */
const MAX_PARTS = 255;

export interface SubmitPart {
  /** Text of this part; the package encodes it by data_coding. */
  text: string;
  /** The 6-byte concatenation UDH including its length octet; absent for a single message. */
  udh?: Buffer;
}

export interface SplitBody {
  dataCoding: typeof DATA_CODING_GSM | typeof DATA_CODING_UCS2;
  parts: SubmitPart[];
}

export function gsmSeptets(char: string): number | undefined {
  if (GSM_BASIC.has(char)) return 1;
  if (GSM_EXTENDED.has(char)) return 2;
  return undefined;
}

/** Whether every character of the body has a GSM 03.38 encoding. */
export function isGsmEncodable(body: string): boolean {
  for (const char of body) if (gsmSeptets(char) === undefined) return false;
  return true;
}

/**
 * Splits a body for submit_sm. Herald's own encoding decision is honoured, except that a body
 * marked GSM7 with a character GSM cannot carry goes as UCS-2 rather than lose the character.
 * `reference` is the concatenation reference byte shared by all parts: derive it from the
 * message id so a resubmission of missing parts joins the parts the handset already has.
 * @throws RangeError when the body needs more than 255 parts.
 */
export function splitBody(body: string, encoding: Encoding, reference: number): SplitBody {
  const gsm = encoding === 'GSM7' && isGsmEncodable(body);
  const texts = gsm ? splitGsm(body) : splitUcs2(body);
  if (texts.length > MAX_PARTS) throw new RangeError(`body needs ${texts.length} parts; SMS concatenation allows ${MAX_PARTS}`);
  const dataCoding = gsm ? DATA_CODING_GSM : DATA_CODING_UCS2;
  if (texts.length === 1) return { dataCoding, parts: [{ text: texts[0] }] };
  const ref = reference & 0xff;
  return {
    dataCoding,
    parts: texts.map((text, index) => ({ text, udh: Buffer.from([0x05, 0x00, 0x03, ref, texts.length, index + 1]) })),
  };
}

function splitGsm(body: string): string[] {
  let total = 0;
  for (const char of body) total += gsmSeptets(char) ?? 1;
  if (total <= GSM_SINGLE) return [body];
  const parts: string[] = [];
  let current = '';
  let septets = 0;
  for (const char of body) {
    const cost = gsmSeptets(char) ?? 1;
    // An escaped character is never cut from its escape: it moves whole to the next part.
    if (septets + cost > GSM_PART) {
      parts.push(current);
      current = '';
      septets = 0;
    }
    current += char;
    septets += cost;
  }
  parts.push(current);
  return parts;
}

function splitUcs2(body: string): string[] {
  if (body.length <= UCS2_SINGLE) return [body];
  const parts: string[] = [];
  let start = 0;
  while (start < body.length) {
    let end = Math.min(start + UCS2_PART, body.length);
    // Never end a part on a high surrogate: the pair would be split across two messages.
    const last = body.charCodeAt(end - 1);
    if (end < body.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(body.slice(start, end));
    start = end;
  }
  return parts;
}

export interface Concatenation {
  reference: number;
  total: number;
  sequence: number;
}

/** Reads the concatenation element (8-bit IEI 0x00 or 16-bit IEI 0x08) from decoded UDH elements. */
export function readConcatenation(elements: readonly Buffer[] | undefined): Concatenation | undefined {
  for (const element of elements ?? []) {
    if (element[0] === 0x00 && element[1] === 3 && element.length >= 5) {
      return { reference: element[2], total: element[3], sequence: element[4] };
    }
    if (element[0] === 0x08 && element[1] === 4 && element.length >= 6) {
      return { reference: element.readUInt16BE(2), total: element[4], sequence: element[5] };
    }
  }
  return undefined;
}
