import { continuesOpening, type ConversationOpening } from './conversation-opening.ts';

/** What the registry knows of a call when its next turn arrives. */
export interface CallProgress {
  /** The newest sentenceId accepted. */
  readonly latestSentenceId: number | undefined;
  /** How the newest accepted turn's conversation began. */
  readonly opening: ConversationOpening;
  readonly turnInProgress: boolean;
  /** When a turn of the call last began or ended (ms). */
  readonly lastSeenAt: number;
}

export interface ArrivingTurn {
  readonly sentenceId?: number | undefined;
  readonly opening: ConversationOpening;
}

/**
 * - `same_call`: the next turn (or the same question asked again): it supersedes any turn in progress;
 * - `late`: a request for an earlier question of a live call that arrived after a newer one:
 *   superseded at once, and the call is left as it is;
 * - `new_call`: another call under the same id: the old call's state is dropped and the turn is
 *   answered as the first of a fresh call.
 */
export type TurnPlace = 'same_call' | 'late' | 'new_call';

/**
 * Where an arriving turn stands. Only a sentenceId lower than the call's newest needs deciding,
 * and a turn is dropped as late only while the call is live and the turn plausibly belongs to it:
 * - the call has been quiet (no turn in progress, none began or ended for `newCallAfterMs`): a
 *   new call (a reused channelId, or a client that numbers from 1 again). A late request arrives
 *   within moments of the newer one, not after a silence;
 * - the numbering restarts (sentenceId 0 or 1) and the conversation does not begin as the
 *   call's newest turn began: a new call, even if the old call was busy a moment ago;
 * - otherwise: late.
 * A late turn does not count as activity, so a call can never be held "live" by the very turns
 * it drops: at worst a new call under a busy id waits `newCallAfterMs` after the old call's last
 * turn. Without sentenceIds every turn is the next one.
 */
export function placeTurn(call: CallProgress, turn: ArrivingTurn, now: number, newCallAfterMs: number): TurnPlace {
  const { sentenceId } = turn;
  if (sentenceId === undefined || call.latestSentenceId === undefined || sentenceId >= call.latestSentenceId) return 'same_call';
  if (!call.turnInProgress && now - call.lastSeenAt >= newCallAfterMs) return 'new_call';
  if (sentenceId <= 1 && !continuesOpening(call.opening, turn.opening)) return 'new_call';
  return 'late';
}
