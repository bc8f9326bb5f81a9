// `npm start`: brings the server bundle up to date with src/ (scripts/build-server.mjs; nothing
// to do when it is current), then runs it in this same process.
import { pathToFileURL } from 'node:url';
import { buildServer, bundlePath } from './build-server.mjs';

await buildServer();
await import(pathToFileURL(bundlePath).href);
