/**
 * The gateway's own test traffic and its own words, made visible to machines:
 * - `x-vlg-synthetic: check|simulate|console` on a request marks a turn sent by
 *   `voice-llm-gateway check` or `simulate`, or the console's playground; the turn's log line and record carry it, so it is told apart from real calls.
 * - `x-vlg-outcome: apology` on a response says the answer is the gateway's apology (every
 *   provider failed), set whenever that is known before the response headers are sent.
 */
export const SYNTHETIC_HEADER = 'x-vlg-synthetic';
export const OUTCOME_HEADER = 'x-vlg-outcome';

export type SyntheticSource = 'check' | 'simulate' | 'console';

/** The marker of a request, when it is one of the known ones (anything else is ignored). */
export function syntheticMarker(value: string | string[] | undefined): SyntheticSource | undefined {
  return value === 'check' || value === 'simulate' || value === 'console' ? value : undefined;
}
