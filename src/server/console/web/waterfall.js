// @ts-check
/**
 * A turn's timing waterfall on one axis from 0 (request received) to the last byte: each provider
 * attempt (retries and fallbacks in red), tool runs, the streaming of the answer, and marks for
 * the first upstream token and the first byte to the platform.
 */
import { h, ms } from './dom.js';

/** @param {any} turn */
export function waterfall(turn) {
  const t = turn.timings ?? {};
  const end = Math.max(turn.totalMs, t.lastByteMs ?? 0, 1);
  const pct = (/** @type {number} */ value) => `${Math.min(100, Math.max(0, (value / end) * 100)).toFixed(2)}%`;
  /** @param {string} label @param {number} from @param {number} to @param {string} kind */
  const bar = (label, from, to, kind) =>
    h(
      'div.wf-row',
      {},
      h('span', { title: label }, `${label} ${ms(to - from)}`),
      h(
        'div.wf-track',
        { role: 'img', 'aria-label': `${label}: ${ms(from)} to ${ms(to)}` },
        h(`div.wf-bar.${kind}`, { style: { left: pct(from), width: pct(Math.max(0, to - from)) }, title: `${ms(from)} → ${ms(to)}` }),
      ),
    );
  /** @param {string} label @param {number | null | undefined} at */
  const mark = (label, at) =>
    at === null || at === undefined
      ? null
      : h(
          'div.wf-row',
          {},
          h('span', {}, `${label} ${ms(at)}`),
          h('div.wf-track', { role: 'img', 'aria-label': `${label} at ${ms(at)}` }, h('div.wf-mark', { style: { left: pct(at) } })),
        );
  const rows = [
    mark('request received', 0),
    ...turn.attempts.map((/** @type {any} */ a) =>
      bar(`${a.provider} ${a.outcome}${a.errorCode ? ` (${a.errorCode})` : ''}`, a.startMs ?? 0, (a.startMs ?? 0) + a.ms, a.outcome),
    ),
    mark('upstream request sent', t.upstreamSentMs),
    mark('first upstream token', t.firstUpstreamTokenMs),
    ...turn.toolRuns.map((/** @type {any} */ run) => bar(`tool ${run.name}`, run.startMs ?? 0, (run.startMs ?? 0) + run.ms, 'tool')),
    mark('filler phrase said', t.fillerMs),
    mark('first byte to platform', t.firstByteMs),
    turn.ttftMs !== null && t.lastByteMs !== null && t.lastByteMs !== undefined
      ? bar('answer streaming', turn.ttftMs, t.lastByteMs, 'stream')
      : null,
    mark('last byte', t.lastByteMs ?? turn.totalMs),
  ];
  return h('details.waterfall', { open: true }, h('summary', {}, `Timing (${ms(end)})`), ...rows);
}
