// The example's backend: the only place that holds the Herald key. It serves the page, sends a
// message for it (POST /api/send) and hands back a short-lived access token that can watch that
// one message and nothing else, so the page can follow the status live from Herald directly.
// Before that token expires the page asks for the next one (POST /api/token) with the renewal
// ticket it was given, which names that one message: the backend never mints a token for a
// message id a page merely claims.
// node:http and fetch only, no framework; the page is bundled with esbuild when the server starts.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface ExampleOptions {
  /** Herald's base URL as the browser reaches it, e.g. http://localhost:3000. */
  heraldUrl: string;
  /** A SENDER (or ADMIN) key. Never sent to the browser. */
  heraldKey: string;
  port: number;
  host?: string;
  /** Lifetime of each token the page gets (default 300 s; Herald takes 1 to 3600). */
  tokenTtlSeconds?: number;
}

/** What POST /api/send answers: enough for the page to watch the message, and no more. */
export interface SendAnswer {
  messageId: string;
  /** The status when it was sent (QUEUED, or SCHEDULED); the page shows it until the first update. */
  status: string;
  token: string;
  /** When `token` expires (ISO 8601): the page renews it before then. */
  expiresAt: string;
  /** What the page gives POST /api/token for the next token of this message. */
  renewal: string;
  graphqlUrl: string;
  wsUrl: string;
}

/** What POST /api/token answers. */
export interface TokenAnswer {
  token: string;
  expiresAt: string;
}

const SEND = `mutation Send($input: SendMessageInput!) {
  sendMessage(input: $input) {
    __typename
    ... on SendMessageSuccess { data { id status } }
    ... on Error { code message }
  }
}`;

const MINT = `mutation Mint($input: CreateAccessTokenInput!) {
  createAccessToken(input: $input) {
    __typename
    ... on CreateAccessTokenSuccess { data { token expiresAt } }
    ... on Error { code message }
  }
}`;

class HeraldRefusal extends Error {
  constructor(readonly code: string, message: string, readonly status = 422) {
    super(message);
  }
}

export async function startExample(options: ExampleOptions): Promise<{ url: string; close(): Promise<void> }> {
  const graphqlUrl = new URL('/graphql', options.heraldUrl).href;
  const wsUrl = graphqlUrl.replace(/^http/, 'ws');
  const page = await bundlePage();
  // Default 300 s: long enough to see most delivery reports on one token, short enough to be
  // worthless soon when leaked; the page renews it anyway.
  const ttlSeconds = options.tokenTtlSeconds ?? 300;
  // Renewal tickets are signed with a key of this process: no store, and a restart voids them.
  const ticketKey = randomBytes(32);
  const ticketOf = (messageId: string) => createHmac('sha256', ticketKey).update(messageId).digest('base64url');

  async function herald<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const response = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.heraldKey}` },
      body: JSON.stringify({ query, variables }),
    }).catch(() => {
      throw new HeraldRefusal('HERALD_UNREACHABLE', `Herald does not answer at ${graphqlUrl}`, 502);
    });
    const body = (await response.json().catch(() => ({}))) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    if (!body.data || body.errors?.length) {
      const first = body.errors?.[0];
      // Herald's own trouble (bad key, rate limit, down) is the backend's, not the user's input.
      throw new HeraldRefusal(first?.extensions?.code ?? `HTTP_${response.status}`, first?.message ?? 'Herald did not answer', 502);
    }
    return body.data;
  }

  async function send(input: unknown): Promise<SendAnswer> {
    const { to, text } = (input ?? {}) as { to?: unknown; text?: unknown };
    if (typeof to !== 'string' || typeof text !== 'string' || !to.trim() || !text.trim()) {
      throw new HeraldRefusal('VALIDATION', 'give "to" and "text"', 400);
    }
    const sent = (await herald<{ sendMessage: Result }>(SEND, { input: { to, body: text } })).sendMessage;
    if (!sent.data?.id) throw new HeraldRefusal(sent.code ?? sent.__typename, sent.message ?? 'not sent');
    const { id: messageId, status = 'QUEUED' } = sent.data;
    return { messageId, status, ...(await mint(messageId)), renewal: ticketOf(messageId), graphqlUrl, wsUrl };
  }

  type Result = { __typename: string; data?: { id?: string; status?: string; token?: string; expiresAt?: string }; code?: string; message?: string };

  /** A token that can watch `messageId` only. */
  async function mint(messageId: string): Promise<TokenAnswer> {
    const minted = (await herald<{ createAccessToken: Result }>(MINT, { input: { messages: [messageId], ttlSeconds } })).createAccessToken;
    if (!minted.data?.token || !minted.data.expiresAt) throw new HeraldRefusal(minted.code ?? minted.__typename, minted.message ?? 'no token', 502);
    return { token: minted.data.token, expiresAt: minted.data.expiresAt };
  }

  /** The next token for the message a renewal ticket names. */
  async function renew(input: unknown): Promise<TokenAnswer> {
    const { messageId, renewal } = (input ?? {}) as { messageId?: unknown; renewal?: unknown };
    if (typeof messageId !== 'string' || typeof renewal !== 'string') throw new HeraldRefusal('VALIDATION', 'give "messageId" and "renewal"', 400);
    const expected = Buffer.from(ticketOf(messageId));
    const given = Buffer.from(renewal);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HeraldRefusal('FORBIDDEN', 'not a renewal ticket for this message', 403);
    return mint(messageId);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const refusal = error instanceof HeraldRefusal ? error : new HeraldRefusal('INTERNAL', 'unexpected error', 500);
      if (!(error instanceof HeraldRefusal)) console.error(error);
      json(res, refusal.status, { error: { code: refusal.code, message: refusal.message } });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://example');
    if (req.method === 'POST' && url.pathname === '/api/send') return json(res, 200, await send(await readJson(req)));
    if (req.method === 'POST' && url.pathname === '/api/token') return json(res, 200, await renew(await readJson(req)));
    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) return serve(res, 'text/html; charset=utf-8', page.html);
    if (req.method === 'GET' && url.pathname === '/main.js') return serve(res, 'text/javascript; charset=utf-8', page.script);
    json(res, 404, { error: { code: 'NOT_FOUND', message: `no ${req.method} ${url.pathname}` } });
  }

  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The page: index.html and main.ts bundled in memory (urql and graphql-ws included). */
async function bundlePage(): Promise<{ html: string; script: string }> {
  const result = await build({
    entryPoints: [path.join(here, 'page', 'main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'warning',
  });
  return { html: await readFile(path.join(here, 'page', 'index.html'), 'utf8'), script: result.outputFiles[0].text };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 64 * 1024) throw new HeraldRefusal('PAYLOAD_TOO_LARGE', 'request too large', 413);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HeraldRefusal('VALIDATION', 'the body is not JSON', 400);
  }
}

function json(res: ServerResponse, status: number, body: unknown) {
  serve(res, 'application/json', JSON.stringify(body), status);
}

function serve(res: ServerResponse, type: string, body: string, status = 200) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

// Run directly: `HERALD_URL=… HERALD_KEY=… node --import tsx examples/send-and-watch/server.ts`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { HERALD_URL, HERALD_KEY, PORT, HOST, TOKEN_TTL_SECONDS } = process.env;
  if (!HERALD_URL || !HERALD_KEY) {
    console.error('set HERALD_URL (e.g. http://localhost:3000) and HERALD_KEY (a SENDER key)');
    process.exit(1);
  }
  const { url } = await startExample({ heraldUrl: HERALD_URL, heraldKey: HERALD_KEY, port: Number(PORT ?? 5173), host: HOST, tokenTtlSeconds: TOKEN_TTL_SECONDS ? Number(TOKEN_TTL_SECONDS) : undefined });
  console.log(`send-and-watch listening on ${url} (start Herald with CORS_ORIGINS=${url})`);
}
