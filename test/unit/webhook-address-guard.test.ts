// The outgoing-webhook SSRF guard: which addresses are public, how a URL's host is judged when an
// endpoint is saved, and one delivery attempt refusing to connect to a private address (DNS
// rebinding included) while never following a redirect.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublicAddress, resolvesToPrivateAddress, type ResolveHost } from '../../src/outgoing-webhooks/address-guard.js';
import { postWebhook } from '../../src/outgoing-webhooks/post-webhook.js';

describe('isPublicAddress', () => {
  it('accepts public IPv4 addresses, up to the edges of the ranges around them', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '9.255.255.255', // below 10/8
      '11.0.0.0', // above 10/8
      '100.63.255.255', // below 100.64/10
      '100.128.0.0', // above 100.64/10
      '169.253.255.255',
      '169.255.0.0',
      '172.15.255.255', // below 172.16/12
      '172.32.0.0', // above 172.16/12
      '192.167.255.255',
      '192.169.0.0',
      '223.255.255.255', // the last unicast address before multicast
    ]) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });

  it('refuses loopback, private, link-local, CGNAT, unspecified, multicast and reserved IPv4 addresses', () => {
    for (const address of [
      '0.0.0.0',
      '0.255.255.255',
      '127.0.0.1',
      '127.255.255.254',
      '10.0.0.0',
      '10.255.255.255',
      '100.64.0.0',
      '100.127.255.255',
      '169.254.169.254', // cloud metadata
      '169.254.0.1',
      '172.16.0.0',
      '172.31.255.255',
      '192.168.0.1',
      '192.0.0.8',
      '192.0.2.1',
      '198.18.0.1',
      '198.51.100.7',
      '203.0.113.9',
      '224.0.0.1',
      '239.255.255.250',
      '240.0.0.1',
      '255.255.255.255',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('accepts global unicast IPv6 and refuses loopback, unspecified, unique-local, link-local, multicast and documentation', () => {
    for (const address of ['2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001:82a::200e', '2400:cb00::1']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
    for (const address of [
      '::',
      '::1',
      '0:0:0:0:0:0:0:1',
      'fc00::1',
      'fd12:3456:789a::1',
      'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      'fe80::1',
      'fe80::1%eth0',
      'febf:ffff::1',
      'fec0::1', // site-local (deprecated)
      'ff02::1',
      'ff05::1:3',
      '2001:db8::1',
      '2001::1', // Teredo
      '2002:7f00:1::1', // 6to4 around 127.0.0.1
      '3fff::1',
      '100::1', // discard-only
      '::127.0.0.1', // IPv4-compatible (deprecated)
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('judges IPv4-mapped and NAT64 IPv6 addresses by the IPv4 address they carry, in either notation', () => {
    for (const address of ['::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '0:0:0:0:0:ffff:a9fe:a9fe', '::ffff:10.0.0.1', '::ffff:192.168.1.1', '64:ff9b::127.0.0.1', '64:ff9b::a00:1']) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    for (const address of ['::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::8.8.8.8', '64:ff9b::5db8:d822']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });

  it('is false for anything that is not an IP address', () => {
    for (const value of ['localhost', 'example.com', '', '[::1]', '127.0.0.1:80', '1.2.3']) expect(isPublicAddress(value), value).toBe(false);
  });
});

describe('resolvesToPrivateAddress (when an endpoint is saved)', () => {
  const table = (entries: Record<string, string[]>): ResolveHost => async (hostname) => {
    const addresses = entries[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses;
  };
  const resolve = table({
    'hooks.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'intranet.example': ['10.1.2.3'],
    'split.example': ['93.184.216.34', '192.168.0.10'],
    'mapped.example': ['::ffff:169.254.169.254'],
  });

  it('judges IP literals (bracketed IPv6 included) without resolving anything', async () => {
    const never: ResolveHost = () => Promise.reject(new Error('resolved an IP literal'));
    expect(await resolvesToPrivateAddress('127.0.0.1', never)).toBe(true);
    expect(await resolvesToPrivateAddress('[::1]', never)).toBe(true);
    expect(await resolvesToPrivateAddress('[::ffff:7f00:1]', never)).toBe(true);
    expect(await resolvesToPrivateAddress('8.8.8.8', never)).toBe(false);
    expect(await resolvesToPrivateAddress('[2606:4700:4700::1111]', never)).toBe(false);
  });

  it('refuses a name when any of its addresses is not public, and lets a name that does not resolve (yet) pass', async () => {
    expect(await resolvesToPrivateAddress('hooks.example', resolve)).toBe(false);
    expect(await resolvesToPrivateAddress('intranet.example', resolve)).toBe(true);
    expect(await resolvesToPrivateAddress('split.example', resolve)).toBe(true);
    expect(await resolvesToPrivateAddress('mapped.example', resolve)).toBe(true);
    // Every delivery checks again where it connects, so an unknown name is no way around the guard.
    expect(await resolvesToPrivateAddress('nowhere.example', resolve)).toBe(false);
  });

  it('uses the system resolver by default: localhost is private', async () => {
    expect(await resolvesToPrivateAddress('localhost')).toBe(true);
  });
});

describe('postWebhook (one delivery attempt)', () => {
  let server: Server;
  let port: number;
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      if (req.url === '/redirect') return void res.writeHead(302, { location: `http://127.0.0.1:${port}/target` }).end();
      if (req.url === '/long-error') return void res.writeHead(500).end('x'.repeat(10_000));
      if (req.url === '/slow') return; // never answers
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (url: string, options: { allowPrivateUrls: boolean; resolve?: ResolveHost; timeoutMs?: number }) =>
    postWebhook(url, { 'content-type': 'application/json', 'webhook-id': 'msg_1' }, '{"type":"test"}', { timeoutMs: 5_000, ...options });

  it('refuses a loopback IP literal, IPv4-mapped or not, before connecting', async () => {
    const before = paths.length;
    expect(await post(`http://127.0.0.1:${port}/literal`, { allowPrivateUrls: false })).toMatchObject({ statusCode: null, error: 'refused: 127.0.0.1 is a private address' });
    expect(await post(`http://[::ffff:127.0.0.1]:${port}/mapped`, { allowPrivateUrls: false })).toMatchObject({
      statusCode: null,
      error: 'refused: ::ffff:7f00:1 is a private address',
    });
    expect(paths.length).toBe(before);
  });

  it('refuses a name that resolves to a private address at delivery time (localhost, or a name rebound since it was saved)', async () => {
    const before = paths.length;
    expect(await post(`http://localhost:${port}/localhost`, { allowPrivateUrls: false })).toMatchObject({
      statusCode: null,
      error: 'refused: localhost resolves to a private address',
    });
    // The name was public when the endpoint was saved; its DNS now answers 127.0.0.1.
    const rebound: ResolveHost = async () => ['127.0.0.1'];
    expect(await post(`http://hooks.example:${port}/rebound`, { allowPrivateUrls: false, resolve: rebound })).toMatchObject({
      statusCode: null,
      error: 'refused: hooks.example resolves to a private address',
    });
    const split: ResolveHost = async () => ['93.184.216.34', '127.0.0.1'];
    expect((await post(`http://hooks.example:${port}/split`, { allowPrivateUrls: false, resolve: split })).error).toBe('refused: hooks.example resolves to a private address');
    expect(paths.length).toBe(before);
  });

  it('connects to the address the resolver gave when private addresses are allowed (WEBHOOK_ALLOW_PRIVATE_URLS)', async () => {
    const resolve: ResolveHost = async () => ['127.0.0.1'];
    expect(await post(`http://receiver.test:${port}/allowed`, { allowPrivateUrls: true, resolve })).toMatchObject({ statusCode: 204, error: null });
    expect(await post(`http://127.0.0.1:${port}/allowed-literal`, { allowPrivateUrls: true })).toMatchObject({ statusCode: 204, error: null });
    expect(paths).toContain('/allowed');
    expect(paths).toContain('/allowed-literal');
  });

  it('never follows a redirect: a 302 is a failed attempt and its Location is not requested', async () => {
    expect(await post(`http://127.0.0.1:${port}/redirect`, { allowPrivateUrls: true })).toMatchObject({ statusCode: 302, error: 'HTTP 302' });
    expect(paths).not.toContain('/target');
  });

  it("keeps only the start of a receiver's error answer, and gives up after the timeout", async () => {
    const long = await post(`http://127.0.0.1:${port}/long-error`, { allowPrivateUrls: true });
    expect(long.statusCode).toBe(500);
    expect(long.error).toMatch(/^HTTP 500: x+$/);
    expect(long.error!.length).toBe(300);
    expect(await post(`http://127.0.0.1:${port}/slow`, { allowPrivateUrls: true, timeoutMs: 200 })).toMatchObject({ statusCode: null, error: 'timed out after 200 ms' });
  });
});
