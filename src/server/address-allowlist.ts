import { BlockList } from 'node:net';
import { addressRule } from '../validation/address-rule.ts';

/**
 * Whether a connection's source address is allowed: any address when the list is empty, else one
 * in a listed address or block. An IPv4 address seen as IPv6 (`::ffff:203.0.113.7`) counts as IPv4.
 */
export function addressAllowlist(entries: readonly string[]): (address: string | undefined) => boolean {
  if (entries.length === 0) return () => true;
  const list = new BlockList();
  for (const entry of entries) {
    const rule = addressRule(entry);
    // The config schema refused anything else.
    if (rule) list.addSubnet(rule.address, rule.prefix, rule.family);
  }
  return (address) => {
    if (address === undefined) return false;
    const plain = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
    return list.check(plain, plain.includes(':') ? 'ipv6' : 'ipv4');
  };
}
