import { createHmac } from 'node:crypto';
import { normalizePhoneNumber } from './normalize-phone-number.ts';
import type { NumberHashes } from './turn-record.ts';

/**
 * Keyed hashes of full phone numbers (HMAC-SHA256 of the normalized number, hex), kept beside the
 * masked number so that a call can be found by the number without the records holding it. Keyed
 * with a per-deployment secret: without it, the hashes of the few billion possible numbers cannot
 * be computed to reverse them.
 */
export class PhoneLookup {
  readonly #key: string;

  constructor(key: string) {
    this.#key = key;
  }

  /** The hash of a number; undefined for what is not a phone number (a masked one, letters). */
  hash(number: string | null | undefined): string | undefined {
    if (number === null || number === undefined) return undefined;
    const normalized = normalizePhoneNumber(number);
    if (normalized === undefined) return undefined;
    return createHmac('sha256', this.#key).update(normalized).digest('hex');
  }

  /** The hashes a turn record keeps for its caller and callee. */
  hashes(caller: string | undefined, callee: string | undefined): NumberHashes {
    return { caller: this.hash(caller) ?? null, callee: this.hash(callee) ?? null };
  }
}
