// `npm start`: brings dist/ up to date with src/ (scripts/build-server.mjs; nothing to do when it
// is current), then runs the server from it in this same process.
import { buildServer } from './build-server.mjs';

await buildServer();
await import('../dist/main.js');
