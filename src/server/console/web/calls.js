// @ts-check
/** Recorded calls: search and filters, newest first, paged by cursor (stable while calls arrive). */
import { api, queryString } from './api.js';
import { h, ms, outcomeTag, time } from './dom.js';

const OUTCOMES = ['ok', 'apologized', 'error', 'client_closed', 'superseded', 'shutdown', 'upstream_broken'];
const FIELDS = ['show', 'q', 'caller', 'callee', 'agent', 'provider', 'outcome', 'signal', 'errorCode', 'synthetic', 'from', 'to'];

/**
 * @param {HTMLElement} view
 * @param {import('./app.js').Me} me
 * @param {string} arg the filters, as a query string
 */
export async function callsPage(view, me, arg) {
  const params = new URLSearchParams(arg.replace(/^\?/, ''));
  /** @param {string} name @param {string} label @param {HTMLElement} control */
  const field = (name, label, control) => {
    control.setAttribute('name', name);
    control.setAttribute('id', `f-${name}`);
    const value = params.get(name);
    if (value) /** @type {HTMLInputElement} */ (control).value = name === 'from' || name === 'to' ? value.slice(0, 16) : value;
    return h('label', { for: `f-${name}` }, label, control);
  };
  /** @param {string[]} values */
  const select = (values) => h('select', {}, h('option', { value: '' }, 'any'), ...values.map((v) => h('option', { value: v }, v)));
  const form = h(
    'form.filters',
    {
      role: 'search',
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        const data = new FormData(/** @type {HTMLFormElement} */ (event.target));
        /** @type {Record<string, string>} */
        const query = {};
        for (const name of FIELDS) {
          const value = String(data.get(name) ?? '').trim();
          // datetime-local is the browser's local time: sent as UTC with its zone.
          if (value) query[name] = name === 'from' || name === 'to' ? new Date(value).toISOString() : value;
        }
        location.hash = `#/calls/${queryString(query)}`;
      },
    },
    field('show', 'Show', h('select', {}, h('option', { value: '' }, 'calls'), h('option', { value: 'turns' }, 'turns'))),
    field('q', 'Said (free text)', h('input', { type: 'search', placeholder: 'words in the call' })),
    field('caller', 'Caller', h('input', { size: 12 })),
    field('callee', 'Callee', h('input', { size: 12 })),
    field('agent', 'Agent', select(me.agents)),
    field('provider', 'Provider', select(me.providers)),
    field('outcome', 'Outcome', select(OUTCOMES)),
    field('signal', 'Signal', select(['hangup', 'transfer'])),
    field('errorCode', 'Error code', h('input', { size: 14 })),
    field('synthetic', 'Traffic', select(['real', 'console', 'check', 'simulate'])),
    field('from', 'From', h('input', { type: 'datetime-local' })),
    field('to', 'To', h('input', { type: 'datetime-local' })),
    h('button', { type: 'submit' }, 'Search'),
  );
  // The same filters list the matching calls, or the matching turns across calls.
  const turns = params.get('show') === 'turns';
  const columns = turns
    ? ['Started', 'Call', 'Agent', 'Caller said', 'Answer', 'Outcome', 'First words']
    : ['Started', 'Call', 'Agent', 'Caller', 'Turns', 'Outcome', 'Ended'];
  const body = h('tbody');
  const more = /** @type {HTMLButtonElement} */ (
    h('button.secondary', { type: 'button', hidden: true }, turns ? 'Older turns' : 'Older calls')
  );
  const table = h('table', { id: 'calls-table' }, h('thead', {}, h('tr', {}, ...columns.map((t) => h('th', { scope: 'col' }, t)))), body);
  view.append(h('h1', {}, 'Calls'), form, table, h('p', {}, more));

  /** @param {string | null} cursor */
  const load = async (cursor) => {
    /** @type {Record<string, string>} */
    const query = { limit: '50' };
    for (const name of FIELDS) if (name !== 'show' && params.get(name)) query[name] = /** @type {string} */ (params.get(name));
    if (cursor) query.cursor = cursor;
    const page = await api(`${turns ? 'admin/turns' : 'admin/search/calls'}${queryString(query)}`);
    for (const item of page.data) body.append(turns ? turnRow(item) : row(item));
    if (!cursor && page.data.length === 0)
      body.append(h('tr', {}, h('td', { colspan: 7 }, turns ? 'No turn matches.' : 'No call matches.')));
    more.hidden = page.nextCursor === null;
    more.onclick = () => void load(page.nextCursor);
  };
  await load(null);
}

/** @param {any} turn */
function turnRow(turn) {
  const cut = (/** @type {string} */ text) => (text.length > 120 ? `${text.slice(0, 120)}…` : text);
  return h(
    'tr',
    {},
    h('td', {}, time(turn.startedAt)),
    h('td', {}, turn.instanceId ? h('a', { href: `#/call/${encodeURIComponent(turn.instanceId)}` }, turn.instanceId) : '—'),
    h('td', {}, turn.agent),
    h('td', {}, cut(turn.callerText)),
    h('td', {}, cut(turn.answerText)),
    h('td', {}, outcomeTag(turn.outcome), turn.signal ? h('span.tag', {}, turn.signal) : null),
    h('td', {}, ms(turn.ttftMs)),
  );
}

/** @param {any} call */
function row(call) {
  return h(
    'tr',
    {},
    h('td', {}, time(call.startedAt)),
    h('td', {}, h('a', { href: `#/call/${encodeURIComponent(call.instanceId)}` }, call.instanceId)),
    h('td', {}, call.agent),
    h('td', {}, call.callerNumber ?? '—'),
    h('td', {}, call.turns),
    h(
      'td',
      {},
      outcomeTag(call.outcome),
      call.hangup ? h('span.tag', {}, 'hangup') : null,
      call.transferred ? h('span.tag', {}, 'transfer') : null,
    ),
    h('td', {}, time(call.endedAt)),
  );
}
