import { createHmac } from 'node:crypto';
import { sameSecret } from '../../server/same-secret.ts';

/**
 * Twilio's request signature (https://www.twilio.com/docs/usage/security#validating-requests):
 * base64 of HMAC-SHA1, keyed with the account's Auth Token, over the full URL Twilio requested
 * (scheme, host, path, query). A WebSocket handshake is a GET: there are no body parameters to
 * append.
 */
export function twilioSignature(authToken: string, url: string): string {
  return createHmac('sha1', authToken).update(url, 'utf8').digest('base64');
}

/** Whether `presented` (the X-Twilio-Signature header) signs `url`; compared in constant time. */
export function validTwilioSignature(authToken: string, url: string, presented: string | undefined): boolean {
  return presented !== undefined && sameSecret(presented, twilioSignature(authToken, url));
}
