import { SegmentedMessage } from 'sms-segments-calculator';

export type Encoding = 'GSM7' | 'UCS2';

// The GSM 03.38 basic character set (no escape-table characters such as { } [ ] ~ \ | ^ €).
const GSM_BASIC = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà]*$/;

export interface BodyAnalysis {
  encoding: Encoding;
  segments: number;
  /** Unicode characters as a person counts them (an escaped GSM character like `{` is one). */
  characters: number;
  /** Distinct characters outside the GSM 03.38 alphabet: the ones that force UCS-2. */
  nonGsmCharacters: string[];
}

/**
 * Encoding and segment count as a carrier computes them. Smart encoding is off: Herald sends
 * the body verbatim, so a curly quote really does force UCS-2.
 */
export function analyzeBody(body: string): BodyAnalysis {
  // Fast path, exact: a body of the GSM 03.38 basic set alone is 7 bits a character with no
  // escapes or surrogates, so 160 fit in one message and 153 in each part. The library walks
  // grapheme clusters (~300 µs a message), which a 10 000-recipient bulk send cannot afford.
  if (GSM_BASIC.test(body)) {
    const characters = body.length;
    return { encoding: 'GSM7', segments: characters === 0 ? 0 : characters <= 160 ? 1 : Math.ceil(characters / 153), characters, nonGsmCharacters: [] };
  }
  const message = new SegmentedMessage(body, 'auto', false);
  return {
    encoding: message.encodingName === 'GSM-7' ? 'GSM7' : 'UCS2',
    segments: body.length === 0 ? 0 : message.segmentsCount,
    characters: message.numberOfUnicodeScalars,
    nonGsmCharacters: [...new Set(message.getNonGsmCharacters())],
  };
}

/** Human warnings a sender should see before paying for a message. */
export function describeBodyWarnings(analysis: BodyAnalysis): string[] {
  const warnings: string[] = [];
  if (analysis.segments > 1) warnings.push(`${analysis.segments} segments: billed as ${analysis.segments} messages`);
  if (analysis.encoding === 'UCS2' && analysis.nonGsmCharacters.length > 0) {
    warnings.push(`UCS-2 encoding (70 characters per segment) forced by: ${analysis.nonGsmCharacters.join(' ')}`);
  }
  return warnings;
}
