// Outgoing webhooks go to URLs that accounts choose, from inside Herald's network. Without a
// guard, a tenant could make Herald POST to 127.0.0.1, the cloud metadata service
// (169.254.169.254) or any host of the private network (server-side request forgery). As
// Stripe and Svix do, only public unicast addresses may be reached: checked when an endpoint is
// saved, and again on the addresses each delivery actually connects to, since a name can resolve
// elsewhere later (DNS rebinding). WEBHOOK_ALLOW_PRIVATE_URLS turns the guard off for
// self-hosters whose receivers are on their own network.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Every address a host name resolves to (IPv4 and IPv6). Injected by tests. */
export type ResolveHost = (hostname: string) => Promise<string[]>;

export const resolveHost: ResolveHost = async (hostname) => (await lookup(hostname, { all: true })).map((a) => a.address);

// The IANA special-purpose registries (RFC 6890 and updates): ranges that are not globally
// reachable, or not meant to be reached by an HTTP client. Two lists: a BlockList checks an IPv4
// address against IPv6 rules too (as ::ffff:a.b.c.d), and ::/3 below would then catch them all.
const nonPublicIpv4 = new BlockList();
const nonPublicIpv6 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 unspecified
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local: cloud metadata services live here
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
] as const) {
  nonPublicIpv4.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local (the IPv6 private range)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['2001::', 23], // IETF protocol assignments (Teredo, benchmarking, ORCHID)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4 (deprecated; embeds an IPv4 address of any kind)
  ['3fff::', 20], // documentation (RFC 9637)
  // Everything else outside 2000::/3 (global unicast) is reserved or unallocated. IPv4-mapped
  // and NAT64 addresses (in ::/3) are judged by the IPv4 address they carry, before this list.
  ['::', 3],
  ['4000::', 2],
  ['8000::', 1],
] as const) {
  nonPublicIpv6.addSubnet(network, prefix, 'ipv6');
}

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted IPv4 part included). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16));
}

/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96) address. */
function embeddedIpv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  const zeroUpTo = (end: number, from = 0) => g.slice(from, end).every((group) => group === 0);
  const mapped = zeroUpTo(5) && g[5] === 0xffff;
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && zeroUpTo(6, 2);
  if (!mapped && !nat64) return undefined;
  return [g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff].join('.');
}

/** True for a public unicast IP address; false for any other address, and for anything not an IP. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !nonPublicIpv4.check(address, 'ipv4');
  // A zone id (fe80::1%eth0) only ever goes with link-local addresses.
  if (family !== 6 || address.includes('%')) return false;
  const ipv4 = embeddedIpv4(address);
  return ipv4 ? isPublicAddress(ipv4) : !nonPublicIpv6.check(address, 'ipv6');
}

/** A URL's host as an IP address when it is one (`[::1]` → `::1`), else undefined. */
export function ipLiteral(hostname: string): string | undefined {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? host : undefined;
}

/** Why a delivery is refused, as its attempt's error (and the endpoint's lastError) says it. */
export class PrivateAddressError extends Error {
  override name = 'PrivateAddressError';
  constructor(hostname: string) {
    super(ipLiteral(hostname) ? `refused: ${hostname} is a private address` : `refused: ${hostname} resolves to a private address`);
  }
}

/**
 * When an endpoint is saved: true when its host is, or resolves to, a non-public address. A host
 * that does not resolve (yet) passes: every delivery checks again where it connects.
 */
export async function resolvesToPrivateAddress(hostname: string, resolve: ResolveHost = resolveHost): Promise<boolean> {
  const literal = ipLiteral(hostname);
  if (literal) return !isPublicAddress(literal);
  const addresses = await resolve(hostname).catch(() => []);
  return addresses.some((address) => !isPublicAddress(address));
}

/**
 * A `lookup` for http(s).request: resolves with `resolve` and, unless private addresses are
 * allowed, fails with PrivateAddressError when any address is not public, so the socket never
 * connects there. (An IP literal host skips `lookup`: check it with isPublicAddress first.)
 */
export function guardedLookup(options: { allowPrivateUrls: boolean; resolve?: ResolveHost }): LookupFunction {
  const resolve = options.resolve ?? resolveHost;
  return (hostname, lookupOptions, callback) => {
    const family = lookupOptions.family === 'IPv4' ? 4 : lookupOptions.family === 'IPv6' ? 6 : (lookupOptions.family ?? 0);
    resolve(hostname)
      .then((all) => {
        const addresses = family ? all.filter((address) => isIP(address) === family) : all;
        if (addresses.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
        if (!options.allowPrivateUrls && !addresses.every(isPublicAddress)) throw new PrivateAddressError(hostname);
        return addresses;
      })
      .then(
        // Outside the promise: an exception thrown by the socket's callback is not ours to catch.
        (addresses) =>
          process.nextTick(() =>
            lookupOptions.all
              ? callback(null, addresses.map((address) => ({ address, family: isIP(address) })))
              : callback(null, addresses[0], isIP(addresses[0])),
          ),
        (error: NodeJS.ErrnoException) => process.nextTick(() => callback(error, '', 0)),
      );
  };
}
