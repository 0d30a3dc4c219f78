/**
 * Where the workflow's window starts in the call's remembered transcript (see restore-memory.ts
 * for the rules). Messages are compared by role and text, the text with all whitespace and
 * interruption markers removed; a window assistant message holding a marker (`played`) matches a
 * remembered one whose text starts with it; the transcript's newest assistant answer may be
 * missing from the window.
 *
 * Linear in the text: every text is read a bounded number of times up front (interned, and the
 * played prefixes located among the sorted remembered answers by binary search), after which
 * comparing two messages is comparing integers. The overlap search then costs at most
 * (remembered messages)² / 2 integer comparisons; the call registry keeps at most 400.
 */

import { messageText, type ChatMessage } from '../../core/chat-types.ts';
import { hasInterruptionMarker, removeInterruptionMarkers } from './interruptions.ts';

/**
 * How many of `transcript`'s messages come before the window's `conversation` (its messages
 * after the leading system ones), for the longest overlap; undefined when they do not overlap.
 */
export function messagesBeforeWindow(transcript: readonly ChatMessage[], conversation: readonly ChatMessage[]): number | undefined {
  // An overlap is never longer than the transcript: later window messages are never compared.
  const head = conversation.slice(0, transcript.length);
  const keys = alignmentKeys(transcript.map(comparable), head.map(comparable));
  let missing = missingBefore(transcript.length, keys);
  const newest = transcript[transcript.length - 1];
  if (missing === undefined && newest?.role === 'assistant') missing = missingBefore(transcript.length - 1, keys);
  return missing;
}

interface Comparable {
  role: ChatMessage['role'];
  /** The text with every whitespace character and marker removed. */
  key: string;
  /** An assistant message holding a marker: only a prefix of the answer was played. */
  played: boolean;
}

const ALL_WHITESPACE = /\s+/g;

function comparable(message: ChatMessage): Comparable {
  const text = messageText(message);
  return {
    role: message.role,
    key: removeInterruptionMarkers(text).replace(ALL_WHITESPACE, ''),
    played: message.role === 'assistant' && hasInterruptionMarker(text),
  };
}

/**
 * The messages as integers, so that comparing two is O(1). Exact matches compare interned ids of
 * role and key. A played window answer matches the remembered answers whose key starts with its
 * key: in sorted order those form one contiguous range of ranks, found once per played answer.
 */
interface AlignmentKeys {
  /** Per remembered message: the id of its role and key. */
  rememberedIds: Int32Array;
  /** Per remembered message: its key's rank among the sorted remembered answers (-1: not an answer). */
  rememberedRanks: Int32Array;
  /** Per window message: the id of its role and key. */
  sentIds: Int32Array;
  /** Per window message: the ranks [from, to) a played answer matches (from -1: not played). */
  playedFrom: Int32Array;
  playedTo: Int32Array;
}

/** Roles as small integers (the five of the API; anything else gets one of its own). */
const ROLES: ReadonlyMap<string, number> = new Map(['system', 'developer', 'user', 'assistant', 'tool'].map((role, i) => [role, i]));
const ROLE_CODES = ROLES.size + 1;

function alignmentKeys(remembered: readonly Comparable[], sent: readonly Comparable[]): AlignmentKeys {
  const keyIds = new Map<string, number>();
  const idOf = ({ role, key }: Comparable): number => {
    let id = keyIds.get(key);
    if (id === undefined) keyIds.set(key, (id = keyIds.size));
    return id * ROLE_CODES + (ROLES.get(role) ?? ROLES.size);
  };
  const answers = [...new Set(remembered.filter((m) => m.role === 'assistant').map((m) => m.key))].sort();
  const rank = new Map(answers.map((key, i) => [key, i] as const));
  const keys: AlignmentKeys = {
    rememberedIds: Int32Array.from(remembered, idOf),
    rememberedRanks: Int32Array.from(remembered, (m) => (m.role === 'assistant' ? rank.get(m.key)! : -1)),
    sentIds: Int32Array.from(sent, idOf),
    playedFrom: new Int32Array(sent.length).fill(-1),
    playedTo: new Int32Array(sent.length),
  };
  sent.forEach((message, j) => {
    if (!message.played) return;
    const range = prefixRange(answers, message.key);
    keys.playedFrom[j] = range.from;
    keys.playedTo[j] = range.to;
  });
  return keys;
}

/** The indexes [from, to) of the `sorted` keys that start with `prefix`. */
function prefixRange(sorted: readonly string[], prefix: string): { from: number; to: number } {
  const from = firstIndex(sorted, 0, (key) => key >= prefix);
  const to = firstIndex(sorted, from, (key) => !key.startsWith(prefix));
  return { from, to };
}

/** The first index at or after `low` where `past` holds (it holds from there on); `sorted.length` when none. */
function firstIndex(sorted: readonly string[], low: number, past: (key: string) => boolean): number {
  let lo = low;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (past(sorted[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * How many of the remembered messages [0, end) come before the window, for the longest overlap of
 * their tail with the head of the window; undefined when none.
 */
function missingBefore(end: number, keys: AlignmentKeys): number | undefined {
  const { rememberedIds, rememberedRanks, sentIds, playedFrom, playedTo } = keys;
  for (let k = Math.min(end, sentIds.length); k >= 1; k--) {
    const offset = end - k;
    let j = 0;
    for (; j < k; j++) {
      const r = offset + j;
      const from = playedFrom[j]!;
      const same = from < 0 ? rememberedIds[r] === sentIds[j] : rememberedRanks[r]! >= from && rememberedRanks[r]! < playedTo[j]!;
      if (!same) break;
    }
    if (j === k) return offset;
  }
  return undefined;
}
