// Typed client SDK: documents in src/client/operations.graphql, checked against the printed
// schema.graphql, compiled to typed document nodes in src/client/generated (run by
// `npm run generate`, which `npm ci` runs).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['src/client/operations.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'src/client/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
        // Plain query strings: the SDK needs no graphql-js at run time to print documents.
        documentMode: 'string',
        scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
      },
    },
  },
};

export default config;
