// Serves the dashboard's built files (dashboard/dist, made by scripts/build-dashboard.mjs at
// install time) at /dashboard. Only files directly in that folder, by name, can be served: a
// request never reaches a path built from user input outside it. The console routes in the page
// (/dashboard/send, /dashboard/stats, …): a single lower-case word without a dot is one of its
// pages and gets index.html, so a reload or a shared link opens that page.
import { readFile, readdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { projectRoot } from '../config/paths.js';

const DIST = path.join(projectRoot, 'dashboard', 'dist');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
// Everything is bundled, so the page needs nothing but this origin (graphql-ws included).
const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const PAGE = /^[a-z][a-z-]{0,30}$/;

export const isDashboardPath = (p: string): boolean => p === '/dashboard' || p.startsWith('/dashboard/');

let files: Promise<Set<string>> | null = null;
const builtFiles = (): Promise<Set<string>> =>
  (files ??= readdir(DIST, { withFileTypes: true }).then(
    (entries) => new Set(entries.filter((e) => e.isFile() && TYPES[path.extname(e.name)]).map((e) => e.name)),
    () => {
      files = null; // not built yet: look again next time
      return new Set<string>();
    },
  ));

export async function serveDashboard(req: IncomingMessage, res: ServerResponse, urlPath: string): Promise<void> {
  const send = (status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { 'content-type': type, 'x-content-type-options': 'nosniff', 'content-security-policy': CSP, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(405, 'text/plain; charset=utf-8', 'method not allowed');
  }
  const rest = urlPath.slice('/dashboard'.length).replace(/^\/+/, '');
  const name = rest === '' || PAGE.test(rest) ? 'index.html' : rest;
  const available = await builtFiles();
  if (!available.size) return send(503, 'text/plain; charset=utf-8', 'the dashboard is not built: run `npm run generate`');
  // A plain file name from the built set, compared as a string: no "..", no "/", no decoding tricks.
  if (!available.has(name)) return send(404, 'text/plain; charset=utf-8', 'not found');
  send(200, TYPES[path.extname(name)], await readFile(path.join(DIST, name)));
}
