// Makes the embedded database's template (src/db/pglite-template.ts); run by scripts/generate.mjs.
import { buildTemplate } from '../src/db/pglite-template.js';

const started = performance.now();
const { path, built } = await buildTemplate();
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(built ? `embedded database template written in ${seconds} s: ${path}` : `embedded database template is current: ${path}`);
