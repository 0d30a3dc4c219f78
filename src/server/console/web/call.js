// @ts-check
/**
 * One call as the caller lived it: each turn's words (cut where the caller cut in), apologies,
 * tool runs, hangup and transfer, the platform's events (recordings playable) in time order, and
 * per turn a waterfall of where the time went.
 */
import { api } from './api.js';
import { h, ms, outcomeTag, signalText, time } from './dom.js';
import { waterfall } from './waterfall.js';

const MAX_PAGES = 20;
const CUT = new Set(['superseded', 'client_closed', 'shutdown', 'upstream_broken']);

/** @param {HTMLElement} view @param {unknown} _me @param {string} arg the call's instance id */
export async function callPage(view, _me, arg) {
  const instanceId = decodeURIComponent(arg);
  const path = `admin/calls/${encodeURIComponent(instanceId)}`;
  const call = await api(path);
  // Every page of turns, up to a bound (admin.turnsPerPage a page).
  for (let pages = 1; call.nextCursor && pages < MAX_PAGES; pages++) {
    const next = await api(`${path}?cursor=${encodeURIComponent(call.nextCursor)}`);
    call.turnRecords.push(...next.turnRecords);
    call.nextCursor = next.nextCursor;
  }
  const items = [
    ...call.turnRecords.map((/** @type {any} */ turn) => ({ at: turn.startedAt, node: turnView(turn) })),
    ...call.events.map((/** @type {any} */ event) => ({ at: event.receivedAt, node: eventView(event) })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const erase = h(
    'button.danger',
    {
      type: 'button',
      onclick: async () => {
        if (!confirm(`Erase every record of call ${instanceId}? This cannot be undone.`)) return;
        await api(`admin/calls/${encodeURIComponent(instanceId)}`, { method: 'DELETE' });
        location.hash = '#/calls';
      },
    },
    'Erase this call',
  );
  view.append(
    h('p', {}, h('a', { href: '#/calls' }, '← Calls')),
    h('h1', {}, `Call ${instanceId}`),
    h(
      'p.row',
      {},
      h('span.tag', {}, call.agent),
      outcomeTag(call.outcome),
      h(
        'span.muted',
        {},
        `${call.callerNumber ?? 'unknown caller'} · ${call.turns} turns · ${time(call.startedAt)} → ${time(call.endedAt ?? call.lastTurnAt)}`,
      ),
    ),
    h('section', { 'aria-label': 'Transcript and timeline' }, ...items.map((item) => item.node)),
    h('p', {}, erase),
  );
  if (call.nextCursor) view.append(h('p.muted', {}, `Only the first ${call.turnRecords.length} turns are shown.`));
}

/** @param {any} turn */
function turnView(turn) {
  const cut = CUT.has(turn.outcome) && turn.answerText !== '';
  const answer = turn.answerText
    ? h(`div.bubble.agent${cut ? '.cut' : ''}`, {}, turn.answerText, cut ? h('span.cutmark', {}, ` ✂ ${cutReason(turn.outcome)}`) : null)
    : h('div.bubble.system', {}, turn.outcome === 'ok' ? '(nothing said)' : `(nothing said: ${turn.errorCode ?? turn.outcome})`);
  return h(
    'article.turn',
    { 'data-turn': turn.id },
    h(
      'p.row.muted',
      {},
      time(turn.startedAt),
      outcomeTag(turn.outcome),
      turn.synthetic ? h('span.tag.warn', {}, turn.synthetic) : null,
      h('span', {}, `${turn.provider ?? 'no provider'} · first words ${ms(turn.ttftMs)} · ${ms(turn.totalMs)}`),
      turn.promptTokens !== null ? h('span', {}, `· ${turn.promptTokens}+${turn.completionTokens ?? 0} tokens`) : null,
    ),
    turn.callerText ? h('div.bubble.caller', {}, turn.callerText) : null,
    ...turn.toolRuns.map((/** @type {any} */ run) =>
      h(
        'div.tool',
        {},
        `${run.ok ? '⚙' : '⚠'} ${run.name}(${run.arguments}) → ${run.ok ? run.result : `failed: ${run.error}`} (${ms(run.ms)})`,
      ),
    ),
    answer,
    turn.timings?.fillerMs !== undefined
      ? h('p.bubble.system', {}, 'The answer began with a filler phrase: the model was slow to start.')
      : null,
    turn.outcome === 'apologized' ? h('p.bubble.system', {}, `The caller heard the gateway's apology (${turn.errorCode}).`) : null,
    turn.signal ? h('p.bubble.system', {}, signalText(turn.signal)) : null,
    waterfall(turn),
  );
}

/** @param {string} outcome */
function cutReason(outcome) {
  if (outcome === 'superseded') return 'the caller cut in';
  if (outcome === 'client_closed') return 'the platform stopped listening';
  if (outcome === 'shutdown') return 'cut by the gateway shutting down';
  return 'the model stopped mid-answer';
}

/** @param {any} event IMS callbacks: chat_record, audio_record (with a recording URL), agent_stop… */
function eventView(event) {
  const payload = event.payload ?? {};
  const url = findUrl(payload);
  return h(
    'div.event',
    { 'data-event': event.event },
    h('strong', {}, event.event),
    ` · ${time(event.receivedAt)}`,
    event.event === 'chat_record' ? h('div', {}, summarize(payload)) : null,
    url
      ? h(
          'div',
          {},
          h('audio', { controls: true, preload: 'none', src: url }),
          ' ',
          h('a', { href: url, rel: 'noreferrer noopener', target: '_blank' }, 'recording'),
        )
      : null,
    event.event === 'agent_stop' ? h('div', {}, 'The agent left the call.') : null,
  );
}

/** The first http(s) URL in a payload (IMS puts recordings at different depths). @param {unknown} value @returns {string | undefined} */
function findUrl(value) {
  if (typeof value === 'string') return /^https?:\/\//.test(value) ? value : undefined;
  if (value && typeof value === 'object')
    for (const item of Object.values(value)) {
      const url = findUrl(item);
      if (url) return url;
    }
  return undefined;
}

/** @param {any} payload */
function summarize(payload) {
  const text = JSON.stringify(payload);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
