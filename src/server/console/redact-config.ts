/**
 * The running configuration as the console shows it: every secret replaced. Keys whose name says
 * secret (apiKey(s), token, password, secret, authorization, headers of tools and providers) lose
 * their value; URLs lose their userinfo and the values of their query parameters.
 */

const REDACTED = '[redacted]';
const SECRET_KEY = /(api[-_]?keys?|token|password|secret|authorization|credential|cookie|headers)$/i;

export function redactConfig(value: unknown, key = ''): unknown {
  if (SECRET_KEY.test(key) && value !== undefined && value !== null) {
    if (Array.isArray(value)) return value.map(() => REDACTED);
    if (typeof value === 'object') return Object.fromEntries(Object.keys(value).map((name) => [name, REDACTED]));
    return REDACTED;
  }
  if (Array.isArray(value)) return value.map((item) => redactConfig(item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, redactConfig(item, name)]));
  }
  if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return redactUrl(value);
  return value;
}

function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.username || url.password) {
    url.username = 'redacted';
    url.password = '';
  }
  for (const name of [...url.searchParams.keys()]) url.searchParams.set(name, REDACTED);
  return url.toString();
}
