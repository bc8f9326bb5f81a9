// `npm start`: brings the server bundle up to date with src/ (scripts/build-server.mjs; nothing
// to do when it is current), then runs it in this same process.
import cluster from 'node:cluster';
import { pathToFileURL } from 'node:url';
import { buildServer, bundlePath } from './build-server.mjs';

// HTTP workers (src/app/cluster.ts) run this file too: the primary has built the bundle already.
if (cluster.isPrimary) await buildServer();
await import(pathToFileURL(bundlePath).href);
