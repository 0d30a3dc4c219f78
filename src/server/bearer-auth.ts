import { createHash, timingSafeEqual } from 'node:crypto';
import { gatewayError, type AuthFailure, type KeyRealm } from '../core/error-catalog.ts';

export type { AuthFailure, KeyRealm } from '../core/error-catalog.ts';

/** Known secrets are padded to a multiple of this many bytes (at least this many). */
const SECRET_WIDTH_STEP = 64;

/**
 * The one place a presented secret is checked: API keys, admin keys, the metrics key, the IMS
 * callback token, a platform socket's path secret. Compared in constant time without a hash per
 * request: every known secret is kept zero-padded to one width (the longest, rounded up), a
 * presented secret is copied into a buffer of that width and compared with every known one (no
 * early exit), its byte length compared separately and folded in, so neither the known secrets'
 * contents nor their lengths show in the timing.
 */
export class SecretSet {
  readonly #padded: readonly Buffer[];
  readonly #lengths: readonly number[];
  /** Where a presented secret is copied; reused (checks are synchronous) and cleared after each. */
  readonly #scratch: Buffer;

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('SecretSet needs at least one secret');
    const encoded = secrets.map((secret) => Buffer.from(secret, 'utf8'));
    const width = Math.max(SECRET_WIDTH_STEP, ...encoded.map((bytes) => Math.ceil(bytes.length / SECRET_WIDTH_STEP) * SECRET_WIDTH_STEP));
    this.#padded = encoded.map((bytes) => {
      const padded = Buffer.alloc(width);
      bytes.copy(padded);
      return padded;
    });
    this.#lengths = encoded.map((bytes) => bytes.length);
    this.#scratch = Buffer.alloc(width);
  }

  get size(): number {
    return this.#padded.length;
  }

  /** Which secret was presented (its index), or -1. */
  indexOf(presented: string): number {
    const scratch = this.#scratch;
    // Longer than the width is no secret here (every UTF-16 unit is at least one UTF-8 byte): such
    // a value is still compared, truncated, and fails on its length, so it costs the same work.
    const length = presented.length > scratch.length ? -1 : Buffer.byteLength(presented, 'utf8');
    const written = scratch.write(presented, 'utf8');
    scratch.fill(0, written);
    let matched = -1;
    for (let index = 0; index < this.#padded.length; index++) {
      const sameBytes = timingSafeEqual(this.#padded[index]!, scratch);
      const sameLength = length === this.#lengths[index];
      if (sameBytes && sameLength) matched = index;
    }
    scratch.fill(0);
    return matched;
  }
}

/** Whether a presented secret is one computed for this request (a signature), in constant time (hashed: a rare path). */
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
