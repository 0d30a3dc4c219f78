import { isIP } from 'node:net';

/** One entry of a source-address allowlist: an address, or a CIDR block. */
export interface AddressRule {
  address: string;
  family: 'ipv4' | 'ipv6';
  /** The block's prefix length; the whole address length for a single address. */
  prefix: number;
}

/** `203.0.113.7`, `203.0.113.0/24`, `2001:db8::/32`; undefined for anything else. */
export function addressRule(entry: string): AddressRule | undefined {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const bits = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits)) return undefined;
  return { address, family: version === 4 ? 'ipv4' : 'ipv6', prefix };
}
