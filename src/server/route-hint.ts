const CHAT = '/chat/completions';

/**
 * What to change when a request missed every route but was clearly meant for the chat endpoint:
 * the console's address already ended in /chat/completions (the platform appends it again), or a
 * proxy forwards a sub-path the gateway was not told about. Undefined for other paths.
 */
export function unknownRouteHint(path: string): string | undefined {
  const first = path.indexOf(CHAT);
  if (first < 0) return undefined;
  const base = path.slice(0, first) || '/';
  if (path.indexOf(CHAT, first + 1) > 0) {
    return `the path holds /chat/completions twice: the platform appends /chat/completions to the address itself, so the console's address must be the base URL ending in ${base} (e.g. https://llm.example.com/v1), without /chat/completions`;
  }
  if (!path.endsWith(CHAT)) return undefined;
  if (/\/v1\/v1$/.test(base)) {
    return `the path holds /v1 twice: the console's address must end in a single /v1 (e.g. https://llm.example.com/v1)`;
  }
  const prefix = base.replace(/\/v1$/, '');
  return `no route for ${path}: if a reverse proxy forwards the sub-path ${prefix}, set server.pathPrefix: ${prefix}; else make the console's address end in /v1 (e.g. https://llm.example.com/v1)`;
}
