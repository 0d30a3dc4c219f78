import { createHash, randomBytes } from 'node:crypto';

/** The session cookie; scoped to /console so no other path of the gateway ever receives it. */
export const SESSION_COOKIE = 'vlg_console';
const MAX_SESSIONS = 1000;

/**
 * Console sign-ins, in memory: a random token per sign-in, kept only as its SHA-256 (a heap dump
 * shows no usable token), each with an expiry. A restart signs everyone out, which is fine for an
 * operator's tool and needs no storage.
 */
export class ConsoleSessions {
  readonly #sessions = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get ttlSeconds(): number {
    return Math.floor(this.#ttlMs / 1000);
  }

  /** A new session's token (for the cookie). */
  create(): string {
    this.#expire();
    // The oldest sign-in goes first when someone signs in too often.
    while (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    const token = randomBytes(32).toString('base64url');
    this.#sessions.set(hash(token), this.#now() + this.#ttlMs);
    return token;
  }

  valid(token: string | undefined): boolean {
    if (token === undefined || token === '') return false;
    const key = hash(token);
    const expires = this.#sessions.get(key);
    if (expires === undefined) return false;
    if (expires <= this.#now()) {
      this.#sessions.delete(key);
      return false;
    }
    return true;
  }

  delete(token: string | undefined): void {
    if (token !== undefined) this.#sessions.delete(hash(token));
  }

  #expire(): void {
    const now = this.#now();
    for (const [key, expires] of this.#sessions) if (expires <= now) this.#sessions.delete(key);
  }
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}
