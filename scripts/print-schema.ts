// Prints the GraphQL schema built from the code to schema.graphql (the SDK is generated
// from that file). `npm run schema:print`; a test fails when the committed file is stale.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { printSchemaSDL } from '../src/schema/index.js';

const target = path.resolve(import.meta.dirname, '../schema.graphql');
await writeFile(target, printSchemaSDL());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
