/**
 * Cheap scans of a streamed chat-completion body, kept as one latin1 string (byte for byte: every
 * marker searched for is ASCII). The load generator runs these on every received chunk, so they look
 * for markers instead of parsing events.
 */

const CONTENT_KEY = '"content":';

/**
 * Index of the first non-empty `"content":"…"` (spaces after the colon allowed) at or after `from`;
 * -1 if there is none yet. `"content":""`, `"content":null` and `"reasoning_content":"…"` do not count.
 */
export function findContent(text: string, from: number): number {
  let at = text.indexOf(CONTENT_KEY, from);
  while (at >= 0) {
    let next = at + CONTENT_KEY.length;
    while (next < text.length && text.charCodeAt(next) === 32 /* space */) next++;
    if (next + 1 >= text.length) return -1; // incomplete: the caller scans again from near the end
    if (text.charCodeAt(next) === 34 /* " */ && text.charCodeAt(next + 1) !== 34) return at;
    at = text.indexOf(CONTENT_KEY, next);
  }
  return -1;
}

/** Where the next scan should start after `findContent(text, …)` found nothing. */
export function rescanFrom(text: string): number {
  return Math.max(0, text.length - CONTENT_KEY.length - 8);
}

/** Non-empty content deltas in a whole body. */
export function countContent(text: string): number {
  let count = 0;
  let at = findContent(text, 0);
  while (at >= 0) {
    count++;
    at = findContent(text, at + CONTENT_KEY.length);
  }
  return count;
}

/** Whether a whole body ends the stream properly. */
export function endsWithDone(text: string): boolean {
  return /data: ?\[DONE\]\s*$/.test(text.slice(-64));
}

/** The answer a whole body (latin1) carries: its content deltas, decoded and joined. */
export function answerOf(latin1: string): string {
  const raw = Buffer.from(latin1, 'latin1').toString('utf8');
  let answer = '';
  for (const line of raw.split('\n')) {
    const data = line.startsWith('data:') ? line.slice(5).trim() : '';
    if (data === '' || data === '[DONE]') continue;
    const chunk = JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown } }> };
    const content = chunk.choices?.[0]?.delta?.content;
    if (typeof content === 'string') answer += content;
  }
  return answer;
}
