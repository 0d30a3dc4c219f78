import { randomBytes } from 'node:crypto';

/** `chatcmpl-` + 24 random base62-ish characters, like OpenAI's ids. */
export function newCompletionId(): string {
  return `chatcmpl-${randomBytes(18).toString('base64url')}`;
}

export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}
