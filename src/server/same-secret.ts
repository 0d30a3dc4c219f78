import { createHash, timingSafeEqual } from 'node:crypto';

/** Whether a presented secret is the expected one, in constant time: fixed-length digests, so no length leaks either. */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
