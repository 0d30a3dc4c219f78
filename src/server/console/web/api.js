// @ts-check
/** Calls the console's own API with the session cookie; the CSRF header goes on every request. */

export class SignedOut extends Error {}

/**
 * @param {string} path under /console/api (or /console/session)
 * @param {{ method?: string, body?: unknown }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, options = {}) {
  const response = await fetch(path.startsWith('/') ? path : `/console/api/${path}`, {
    method: options.method ?? 'GET',
    credentials: 'same-origin',
    headers: { 'x-vlg-console': '1', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 401) throw new SignedOut();
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  return body;
}

/** @param {Record<string, string | undefined | null>} params */
export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}
