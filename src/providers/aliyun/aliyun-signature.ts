// Aliyun's RPC request signature (SignatureVersion 1.0, HMAC-SHA1), as documented in
// "签名机制" (https://www.alibabacloud.com/help/zh/sms/signature-method,
// https://www.alibabacloud.com/help/en/sms/signature-method):
//   StringToSign = HTTPMethod & percentEncode("/") & percentEncode(CanonicalizedQueryString)
//   Signature    = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))
// where CanonicalizedQueryString is every parameter except Signature, sorted by name, each
// name and value percent-encoded and joined with "=" and "&".

import { createHmac, randomUUID } from 'node:crypto';

/**
 * RFC 3986 encoding as Aliyun specifies it: A-Z a-z 0-9 - _ . ~ stay, everything else is
 * %XY of its UTF-8 bytes, a space is %20 (never +). encodeURIComponent leaves ! ' ( ) * too,
 * so those are escaped by hand (the doc's "replace * with %2A" covers the common case).
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Sorted by name in code-unit order (parameter names are ASCII), Signature left out. */
export function canonicalQuery(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .filter((name) => name !== 'Signature')
    .sort()
    .map((name) => `${percentEncode(name)}=${percentEncode(params[name])}`)
    .join('&');
}

export function stringToSign(method: string, params: Readonly<Record<string, string>>): string {
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`;
}

/** The base64 Signature value (not yet percent-encoded for the wire). */
export function computeRpcSignature(method: string, params: Readonly<Record<string, string>>, accessKeySecret: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign(method, params), 'utf8').digest('base64');
}

/** Aliyun wants the timestamp in UTC without milliseconds: 2017-07-12T02:42:19Z. */
export function rpcTimestamp(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

export interface RpcCredentials {
  accessKeyId: string;
  accessKeySecret: string;
}

/**
 * Adds the common parameters (a fresh nonce, the timestamp) to an action's parameters and
 * signs them; returns the form body to send (POST, application/x-www-form-urlencoded).
 */
export function signRpcRequest(
  credentials: RpcCredentials,
  action: string,
  actionParams: Readonly<Record<string, string>>,
  options: { method?: 'GET' | 'POST'; now?: Date; nonce?: string; version?: string; regionId?: string } = {},
): { params: Record<string, string>; body: string } {
  const params: Record<string, string> = {
    ...actionParams,
    Action: action,
    Version: options.version ?? '2017-05-25',
    Format: 'JSON',
    RegionId: options.regionId ?? 'cn-hangzhou',
    AccessKeyId: credentials.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    // Aliyun refuses a nonce it has seen in the last 15 minutes (SignatureNonceUsed): a
    // resubmission must be a new request, never a replay of the old bytes.
    SignatureNonce: options.nonce ?? randomUUID(),
    Timestamp: rpcTimestamp(options.now ?? new Date()),
  };
  params.Signature = computeRpcSignature(options.method ?? 'POST', params, credentials.accessKeySecret);
  const body = Object.entries(params)
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
    .join('&');
  return { params, body };
}
