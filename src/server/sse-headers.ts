/**
 * Response headers for a chat-completion stream; no proxy may buffer it. No `connection` header:
 * Node says keep-alive itself, and `close` while the replica drains (ConnectionDrain).
 */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const;
