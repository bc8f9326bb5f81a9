// TencentCloud API signature v3 (TC3-HMAC-SHA256), as published in "Signature v3"
// (https://www.tencentcloud.com/document/api/382/40466 links it; the worked example with
// SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE and timestamp 1551113065 is in every product's
// "Signature v3" page, e.g. https://cloud.tencent.com/document/api/306/57449). Steps:
//   CanonicalRequest = POST \n / \n <empty query> \n content-type:<value>\nhost:<host>\n \n
//                      content-type;host \n hex(sha256(body))
//   StringToSign     = TC3-HMAC-SHA256 \n <timestamp> \n <UTC date>/<service>/tc3_request \n
//                      hex(sha256(CanonicalRequest))
//   key              = HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request")
//   Authorization    = TC3-HMAC-SHA256 Credential=<SecretId>/<scope>, SignedHeaders=content-type;host,
//                      Signature=hex(HMAC(key, StringToSign))
// Only content-type and host are signed, as the official SDKs do: the X-TC-* headers travel
// unsigned, and the timestamp is protected through the string to sign.

import { createHash, createHmac } from 'node:crypto';

export const TC3_ALGORITHM = 'TC3-HMAC-SHA256';
export const TC3_SIGNED_HEADERS = 'content-type;host';

export interface Tc3SignInput {
  secretId: string;
  secretKey: string;
  /** The product, first label of its domain: `sms` for sms.tencentcloudapi.com. */
  service: string;
  /** The host as signed: the endpoint's hostname, without a port (as the official SDKs sign it). */
  host: string;
  /** The Content-Type header exactly as sent (its charset parameter included). */
  contentType: string;
  /** The body bytes exactly as sent. */
  payload: string | Buffer;
  /** X-TC-Timestamp, Unix seconds. */
  timestamp: number;
}

export interface Tc3Signature {
  authorization: string;
  signature: string;
  credentialScope: string;
  canonicalRequest: string;
  stringToSign: string;
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** The UTC calendar date of a Unix timestamp (the scope's date is UTC, never local time). */
export function tc3Date(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

export function signTc3(input: Tc3SignInput): Tc3Signature {
  // Header values are trimmed; the spec lower-cases them too, but every SDK signs the
  // content type as sent (`application/json; charset=utf-8`), and so must we.
  const canonicalHeaders = `content-type:${input.contentType.trim()}\nhost:${input.host.trim().toLowerCase()}\n`;
  const canonicalRequest = ['POST', '/', '', canonicalHeaders, TC3_SIGNED_HEADERS, sha256Hex(input.payload)].join('\n');
  const date = tc3Date(input.timestamp);
  const credentialScope = `${date}/${input.service}/tc3_request`;
  const stringToSign = [TC3_ALGORITHM, String(input.timestamp), credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(`TC3${input.secretKey}`, date), input.service), 'tc3_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return {
    authorization: `${TC3_ALGORITHM} Credential=${input.secretId}/${credentialScope}, SignedHeaders=${TC3_SIGNED_HEADERS}, Signature=${signature}`,
    signature,
    credentialScope,
    canonicalRequest,
    stringToSign,
  };
}
