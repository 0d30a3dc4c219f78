import { createHash, timingSafeEqual } from 'node:crypto';
import { gatewayError, type AuthFailure, type KeyRealm } from '../core/error-catalog.ts';

export type { AuthFailure, KeyRealm } from '../core/error-catalog.ts';

/**
 * The one place a presented secret is checked: API keys, admin keys, the metrics key, the IMS
 * callback token, a platform socket's path secret. Compared in constant time: the known secrets'
 * digests are taken once, at startup; a presented secret is hashed once and compared with every
 * one (no early exit), on fixed-length digests (no length leak).
 */
export class SecretSet {
  readonly #digests: readonly Buffer[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('SecretSet needs at least one secret');
    this.#digests = secrets.map(digest);
  }

  get size(): number {
    return this.#digests.length;
  }

  /** Which secret was presented (its index), or -1. */
  indexOf(presented: string): number {
    const candidate = digest(presented);
    let matched = -1;
    for (let index = 0; index < this.#digests.length; index++) {
      if (timingSafeEqual(this.#digests[index]!, candidate)) matched = index;
    }
    return matched;
  }
}

/** Whether a presented secret is one computed for this request (a signature), in constant time. */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Which key a request carries, or how it failed. */
export type KeyCheck = { keyId: string; failure?: undefined } | { keyId?: undefined; failure: AuthFailure };

/** The key of `Authorization: Bearer <key>` (case-insensitive scheme), or undefined when the header is not that. */
export function parseBearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return /^\s*Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/** `Authorization: Bearer <key>` checked against a set of keys (see SecretSet). */
export class BearerAuth {
  readonly #keys: SecretSet;

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('BearerAuth needs at least one key');
    this.#keys = new SecretSet(keys);
  }

  /** Which key the header carries, as an id (`key-1`, `key-2`, ...; never the key itself), or how it failed. */
  check(authorization: string | undefined): KeyCheck {
    const presented = parseBearer(authorization);
    if (presented === undefined) {
      return { failure: authorization === undefined || authorization.trim() === '' ? 'missing_api_key' : 'malformed_authorization' };
    }
    const matched = this.#keys.indexOf(presented);
    return matched < 0 ? { failure: 'wrong_api_key' } : { keyId: keyId(matched) };
  }

  /** The key id (see `check`), or the catalog's 401 worded for where the key was asked (`realm`). */
  verify(authorization: string | undefined, realm: KeyRealm = 'chat'): string {
    const checked = this.check(authorization);
    if (checked.failure !== undefined) throw gatewayError('invalid_api_key', { realm, failure: checked.failure });
    return checked.keyId;
  }

  /** Whether a bare key (not a header) is one of the keys. */
  accepts(key: string): boolean {
    return this.#keys.indexOf(key) >= 0;
  }

  /** The id of every key, in order (what `check` gives for each). */
  get keyIds(): string[] {
    return Array.from({ length: this.#keys.size }, (_unused, index) => keyId(index));
  }
}

function keyId(index: number): string {
  return `key-${index + 1}`;
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
