import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { Config, TrustedProxies } from '../config.js';

/**
 * Who a request comes from, as the per-address limits count clients: the socket's address, or
 * behind TRUSTED_PROXIES the address the nearest untrusted hop of X-Forwarded-For names; IPv6
 * clients by their /64 (one host gets a whole /64, so counting single addresses would let it
 * rotate through 2^64 of them), IPv4-mapped IPv6 as the IPv4 address it is.
 */
export type AddressOf = (req: IncomingMessage) => string;

const resolvers = new WeakMap<object, AddressOf>();

/** The client address of a request under this configuration's TRUSTED_PROXIES, keyed for counting (addressKey). */
export function clientAddress(req: IncomingMessage, config: Pick<Config, 'trustedProxies'>): string {
  let resolve = resolvers.get(config);
  if (resolve === undefined) resolvers.set(config, (resolve = addressResolver(config.trustedProxies)));
  return resolve(req);
}

/** Builds the resolver for a TRUSTED_PROXIES setting (null: the socket's address only). */
export function addressResolver(trusted: TrustedProxies | null): AddressOf {
  if (trusted === null) return (req) => addressKey(req.socket.remoteAddress ?? '');
  if ('hops' in trusted) {
    const hops = trusted.hops;
    return (req) => {
      const chain = hopChain(req);
      // Fewer hops than proxies: the request skipped them, so its own socket is the client.
      const at = chain.length - 1 - hops;
      return addressKey(at < 0 ? chain[chain.length - 1]! : chain[at]!);
    };
  }
  const list = new BlockList();
  for (const cidr of trusted.cidrs) {
    const [address, bits] = cidr.split('/') as [string, string | undefined];
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  const isTrusted = (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
  return (req) => {
    const chain = hopChain(req);
    // From the socket leftwards, past every trusted proxy: the first hop we do not trust is the
    // client. Entries left of it are whatever the client wrote, and are never believed.
    let i = chain.length - 1;
    while (i > 0 && isTrusted(chain[i]!)) i -= 1;
    return addressKey(chain[i]!);
  };
}

/** X-Forwarded-For's hops then the socket's address, each a plain address; stops at the first entry that is none. */
function hopChain(req: IncomingMessage): string[] {
  const socket = plainAddress(req.socket.remoteAddress ?? '') ?? '';
  const header = req.headers['x-forwarded-for'];
  if (header === undefined) return [socket];
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
  const chain: string[] = [];
  // Read from the right: an unreadable entry ends what the proxies vouch for.
  for (let i = hops.length - 1; i >= 0; i--) {
    const address = plainAddress(hops[i]!.trim());
    if (address === null) break;
    chain.unshift(address);
  }
  chain.push(socket);
  return chain;
}

/** An address without brackets or port, IPv4-mapped IPv6 as IPv4; null when it is no address. */
function plainAddress(text: string): string | null {
  let a = text;
  if (a.startsWith('[')) a = a.slice(1, a.indexOf(']') < 0 ? a.length : a.indexOf(']'));
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  return isIP(a) === 0 ? null : a;
}

/** The key an address is counted under: IPv4 as is, IPv6 by its /64 (`2001:db8:1:2::/64`). */
export function addressKey(address: string): string {
  if (!address.includes(':')) return address;
  const plain = plainAddress(address);
  if (plain === null) return address;
  if (!plain.includes(':')) return plain;
  return `${ipv6Groups(plain).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as lower-case hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const zone = address.indexOf('%');
  const bare = zone < 0 ? address : address.slice(0, zone);
  const [head, tail] = bare.includes('::') ? bare.split('::') as [string, string] : [bare, null];
  const left = head === '' ? [] : head.split(':');
  const right = tail === null || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (::ffff:1.2.3.4 handled above; 64:ff9b::1.2.3.4 here) is two groups.
  const expand = (parts: string[]) =>
    parts.flatMap((p) => {
      if (!p.includes('.')) return [p];
      const o = p.split('.').map(Number);
      return [((o[0]! << 8) | o[1]!).toString(16), ((o[2]! << 8) | o[3]!).toString(16)];
    });
  const l = expand(left);
  const r = expand(right);
  const fill = tail === null ? [] : new Array<string>(8 - l.length - r.length).fill('0');
  return [...l, ...fill, ...r].map((g) => parseInt(g, 16).toString(16));
}
