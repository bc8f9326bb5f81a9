// Which web pages may call Herald from another origin (CORS_ORIGINS), decided in one place for
// every /graphql answer (http/router.ts sets the grant before yoga or its own error answers run,
// and answers preflights) and for the graphql-ws upgrade (http/graphql-ws.ts).
//
// Never credentials mode: Herald authenticates with bearer strings (API keys, access tokens)
// that a page sends on purpose, never with cookies, so `Access-Control-Allow-Credentials` is not
// sent. (Yoga's default CORS reflected any Origin with credentials: true; that is why Herald
// gives its own policy.) A grant exposes every answer, errors included, so a page can read a
// 401's reason and a 429's Retry-After.
import type { CorsConfig } from '../config/config.js';

/** Headers a GraphQL client sends: JSON bodies, the bearer, yoga's CSRF header, a request id. */
const ALLOWED_HEADERS = ['content-type', 'authorization', 'accept', 'x-graphql-yoga-csrf', 'x-request-id'];
/** Answer headers a page may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'www-authenticate'];
/** How long a browser may reuse a preflight's answer (seconds). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export interface CorsPolicy {
  /** Whether a page of `origin` may call Herald across origins. */
  allows(origin: string): boolean;
  /** Whether `origin` is Herald's own public one (PUBLIC_URL), as a proxy in front of it serves it. */
  isOwn(origin: string): boolean;
}

export function createCorsPolicy(config: CorsConfig, publicUrl?: string): CorsPolicy {
  const origins = new Set(config.origins);
  const own = publicUrl ? new URL(publicUrl).origin : undefined;
  return { allows: (origin) => config.anyOrigin || origins.has(origin), isOwn: (origin) => origin === own };
}

/**
 * The CORS answer headers for a request from `origin` (its Origin header), or undefined when
 * there is none to give: no Origin (not a browser's cross-origin call) or an origin not granted.
 * Same-origin pages need no grant.
 */
export function corsHeaders(policy: CorsPolicy, origin: string | null | undefined): Record<string, string> | undefined {
  if (!origin || !policy.allows(origin)) return undefined;
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': ALLOWED_HEADERS.join(', '),
    'Access-Control-Expose-Headers': EXPOSED_HEADERS.join(', '),
    'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
  };
}

/**
 * Whether a WebSocket upgrade may go ahead: no Origin (a program, not a browser page), Herald's
 * own origin (Origin's host is the Host it connected to, or PUBLIC_URL's origin behind a proxy
 * that rewrites Host), or a granted origin. Browsers do not apply CORS to WebSockets, so this
 * check is the only one.
 */
export function allowsUpgrade(policy: CorsPolicy, origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true;
  if (policy.allows(origin) || policy.isOwn(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
