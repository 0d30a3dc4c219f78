import { PHRASES } from '../agent/language/phrases.ts';

const normalize = (text: string) => text.replace(/\s+/g, ' ').trim().toLowerCase();
const APOLOGIES = Object.values(PHRASES).map((phrases) => normalize(phrases.apology));

/**
 * Whether an answer holds the gateway's default apology (any language): the fallback for servers
 * that do not send `x-vlg-outcome` (an older gateway, or a filler phrase said before the apology).
 * A configured `onFailure.message` is only recognized through the header.
 */
export function looksLikeApology(text: string): boolean {
  const said = normalize(text);
  return said !== '' && APOLOGIES.some((apology) => said.includes(apology));
}
