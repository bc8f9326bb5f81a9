import { analyzeBody, describeBodyWarnings } from '../domain/segments.js';
import { builder } from './builder.js';
import { EncodingEnum } from './messages.js';

interface Preview {
  body: string;
  encoding: 'GSM7' | 'UCS2';
  segments: number;
  characters: number;
  nonGsmCharacters: string[];
  sensitiveWords: string[];
  warnings: string[];
}

const MessagePreview = builder.objectRef<Preview>('MessagePreview').implement({
  description: 'What a message would cost and look like, without sending it.',
  fields: (t) => ({
    body: t.exposeString('body'),
    encoding: t.field({ type: EncodingEnum, resolve: (p) => p.encoding }),
    segments: t.exposeInt('segments'),
    characters: t.exposeInt('characters'),
    nonGsmCharacters: t.exposeStringList('nonGsmCharacters', { description: 'The characters that force UCS-2.' }),
    sensitiveWords: t.exposeStringList('sensitiveWords'),
    warnings: t.exposeStringList('warnings'),
  }),
});

const PreviewInput = builder.inputType('PreviewInput', {
  fields: (t) => ({
    body: t.string({ required: false }),
    templateId: t.id({ required: false }),
    variables: t.field({ type: 'JSON', required: false }),
    to: t.string({ required: false }),
  }),
});

builder.queryField('previewMessage', (t) =>
  t.field({
    type: MessagePreview,
    args: { input: t.arg({ type: PreviewInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const body = input.body ?? '';
      const analysis = analyzeBody(body);
      const warnings = describeBodyWarnings(analysis);
      if ([...body].length > ctx.config.maxBodyLength) warnings.push(`longer than the ${ctx.config.maxBodyLength}-character limit: sending would be refused`);
      if (body.trim() === '') warnings.push('the body is empty: sending would be refused');
      return { body, ...analysis, sensitiveWords: [], warnings };
    },
  }),
);
