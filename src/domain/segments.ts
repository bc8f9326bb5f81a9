import { SegmentedMessage } from 'sms-segments-calculator';

export type Encoding = 'GSM7' | 'UCS2';

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
