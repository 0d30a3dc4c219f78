import { createHmac } from 'node:crypto';
import { sameSecret } from '../../bearer-auth.ts';

/**
 * Twilio's request signature (https://www.twilio.com/docs/usage/security#validating-requests):
 * base64 of HMAC-SHA1, keyed with the account's Auth Token, over the full URL Twilio requested
 * (scheme, host, path, query), followed by a POST's parameters sorted by name, each name then
 * its value. A WebSocket handshake is a GET: it has none.
 */
export function twilioSignature(authToken: string, url: string, params: Readonly<Record<string, string>> = {}): string {
  const signed =
    url +
    Object.keys(params)
      .sort()
      .map((name) => name + params[name])
      .join('');
  return createHmac('sha1', authToken).update(signed, 'utf8').digest('base64');
}

/** Whether `presented` (the X-Twilio-Signature header) signs `url`; compared in constant time. */
export function validTwilioSignature(authToken: string, url: string, presented: string | undefined): boolean {
  return presented !== undefined && sameSecret(presented, twilioSignature(authToken, url));
}
