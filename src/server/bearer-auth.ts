import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../core/gateway-error.ts';

export type AuthFailure = 'missing_api_key' | 'malformed_authorization' | 'wrong_api_key';

/** A 401 that says which mistake it was (for the refusal log and metric). */
export class UnauthorizedError extends GatewayError {
  readonly failure: AuthFailure;

  constructor(message: string, failure: AuthFailure) {
    super(message, { status: 401, type: 'authentication_error', code: 'invalid_api_key' });
    this.failure = failure;
  }
}

/**
 * Checks `Authorization: Bearer <key>` against several keys in constant time: every key is
 * compared (no early exit), on fixed-length digests (no length leak).
 */
export class BearerAuth {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('BearerAuth needs at least one key');
    this.digests = keys.map(digest);
  }

  /**
   * Throws a 401 GatewayError unless the header carries a known key; returns which one as an id
   * (`key-1`, `key-2`, ...) for per-key limits and records — never the key itself.
   */
  verify(authorization: string | undefined): string {
    const presented = parseBearer(authorization);
    if (presented === undefined) {
      throw authorization === undefined
        ? new UnauthorizedError(
            'Missing API key: send "Authorization: Bearer <key>" (the API-KEY field of the workflow console).',
            'missing_api_key',
          )
        : new UnauthorizedError('Malformed Authorization header: expected "Bearer <key>".', 'malformed_authorization');
    }
    const candidate = digest(presented);
    let matched = -1;
    this.digests.forEach((known, index) => {
      if (timingSafeEqual(known, candidate)) matched = index;
    });
    if (matched < 0) {
      throw new UnauthorizedError(
        "Incorrect API key provided. The console's API-KEY must be one of the gateway's keys (server.apiKeys), not the model provider's key.",
        'wrong_api_key',
      );
    }
    return keyId(matched);
  }

  /** The id of every key, in order (what `verify` returns for each). */
  get keyIds(): string[] {
    return this.digests.map((_digest, index) => keyId(index));
  }
}

function keyId(index: number): string {
  return `key-${index + 1}`;
}

function parseBearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
