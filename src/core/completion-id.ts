import { randomBytes, randomUUID } from 'node:crypto';

/** `chatcmpl-` + a random UUID (randomUUID draws from a cached entropy pool: no syscall per turn). */
export function newCompletionId(): string {
  return `chatcmpl-${randomUUID()}`;
}

export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}
