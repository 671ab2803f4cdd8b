// Which addresses the server may open on a user's behalf. Only public unicast: loopback, private
// (RFC 1918), link-local (cloud metadata at 169.254.169.254), CGNAT, multicast, broadcast, reserved and
// documentation ranges, ULA, IPv4-mapped/-translated IPv6 and everything outside 2000::/3 are refused,
// by ipaddr.js' range tables. FETCH_ALLOW (CIDRs or host names) admits what an operator chooses.
import ipaddr from 'ipaddr.js';

export interface AddressPolicy {
  /** CIDRs whose addresses are admitted although internal */
  cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][];
  /** host names (lower case) admitted whatever they resolve to */
  hosts: Set<string>;
  /** the setting's raw text, for messages */
  source: string;
}

export const allowSetting = 'FETCH_ALLOW';

const globalUnicast6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** FETCH_ALLOW: comma- or space-separated CIDRs (10.1.0.0/16, ::1/128), single addresses, or host names. */
export function parseAllowList(raw: string | undefined): AddressPolicy {
  const policy: AddressPolicy = { cidrs: [], hosts: new Set(), source: raw?.trim() ?? '' };
  for (const entry of (raw ?? '').split(/[\s,]+/).filter(Boolean)) {
    if (entry.includes('/')) {
      try {
        policy.cidrs.push(ipaddr.parseCIDR(entry));
      } catch {
        throw new Error(`${allowSetting}: '${entry}' is not a CIDR (like 10.0.0.0/8 or fd00::/8)`);
      }
    } else if (ipaddr.isValid(entry)) {
      const addr = ipaddr.parse(entry);
      policy.cidrs.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^[a-z0-9.-]+$/i.test(entry)) {
      policy.hosts.add(entry.toLowerCase());
    } else {
      throw new Error(`${allowSetting}: '${entry}' is neither a CIDR, an address nor a host name`);
    }
  }
  return policy;
}

/** Why an address is refused (its ipaddr.js range), or null when it may be opened. */
export function refusalOf(address: string, policy: AddressPolicy): string | null {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(address.replace(/^\[|\]$/g, ''));
  } catch {
    return 'not an IP address';
  }
  if (policy.cidrs.some(([net, bits]) => addr.kind() === net.kind() && addr.match(net, bits))) return null;
  // ::ffff:127.0.0.1 is range ipv4Mapped: refused unless an IPv6 CIDR admits it (127.0.0.0/8 does not)
  const range = addr.range();
  if (range !== 'unicast') return range;
  if (addr.kind() === 'ipv6' && !addr.match(globalUnicast6)) return 'reserved';
  return null;
}

export const isAddressAllowed = (address: string, policy: AddressPolicy) => refusalOf(address, policy) === null;

/** The URL host when it is an IP literal (brackets removed), else null. WHATWG URL already normalised 0x7f000001, 2130706433, 127.1. */
export function literalAddress(host: string): string | null {
  const bare = host.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(bare) ? bare : null;
}

/** `localhost` and *.localhost always mean loopback (RFC 6761), whatever DNS says. */
export const isLocalhostName = (host: string) => /(^|\.)localhost\.?$/i.test(host);

const rangeLabels: Record<string, string> = {
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique local (ULA)',
  ipv4Mapped: 'IPv4-mapped IPv6',
  rfc6052: 'IPv4-translated IPv6',
  rfc6145: 'IPv4-translated IPv6',
  '6to4': '6to4',
};
/** An ipaddr.js range name as words for messages. */
export const rangeLabel = (range: string) => rangeLabels[range] ?? range;
