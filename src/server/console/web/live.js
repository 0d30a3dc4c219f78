// @ts-check
/** Calls in progress, updated as they happen over SSE; each turn's answer streams in as it is sent. */
import { h, ms, outcomeTag, signalText, time } from './dom.js';

/** @param {HTMLElement} view */
export function livePage(view) {
  /** @type {Map<string, any>} */
  const calls = new Map();
  const list = h('div.grid', { id: 'live-calls' });
  const status = h('p.muted', { id: 'live-status', role: 'status' }, 'Connecting…');
  view.append(h('h1', {}, 'Live calls'), status, list);

  const render = () => {
    status.textContent = calls.size === 0 ? 'No call in progress.' : `${calls.size} call${calls.size === 1 ? '' : 's'} in progress.`;
    list.replaceChildren(...[...calls.values()].map(card));
  };
  const source = new EventSource('/console/api/live');
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === 'snapshot') for (const call of event.calls) calls.set(call.instanceId, call);
    else if (event.type === 'turn' || event.type === 'ended') {
      calls.delete(event.instanceId);
      calls.set(event.instanceId, event.call);
      // Newest first.
      const entries = [...calls.entries()].reverse();
      calls.clear();
      for (const [id, call] of entries) calls.set(id, call);
    } else if (event.type === 'gone') calls.delete(event.instanceId);
    else if (event.type === 'text') {
      const call = calls.get(event.instanceId);
      if (call?.current?.id === event.turnId) {
        call.current.text += event.text;
        const node = list.querySelector(`[data-turn="${CSS.escape(event.turnId)}"]`);
        if (node) node.textContent = call.current.text;
        return;
      }
    }
    render();
  };
  source.onerror = () => (status.textContent = 'Reconnecting…');
  return () => source.close();
}

/** @param {any} call */
function card(call) {
  const current = call.current;
  const last = call.last;
  return h(
    'article.card',
    { 'data-call': call.instanceId },
    h(
      'div.row',
      {},
      h('a', { href: `#/call/${encodeURIComponent(call.instanceId)}` }, h('strong', {}, call.instanceId)),
      h('span.tag', {}, call.agent),
      current?.synthetic ? h('span.tag.warn', {}, current.synthetic) : null,
    ),
    h(
      'p.muted',
      {},
      `${call.callerNumber ?? 'unknown caller'} → ${call.calleeNumber ?? '—'} · ${call.turns} turn${call.turns === 1 ? '' : 's'} · since ${time(call.firstSeenAt)}`,
    ),
    current
      ? h(
          'div',
          {},
          h('div.bubble.caller', {}, current.callerText || '(no words)'),
          h('div.bubble.agent', {}, h('span.live-text', { 'data-turn': current.id }, current.text)),
        )
      : last
        ? h(
            'div',
            {},
            h('div.bubble.agent', {}, last.answerText || '(nothing said)'),
            h('p.row', {}, outcomeTag(last.outcome), h('span.muted', {}, `first words after ${ms(last.ttftMs)}`)),
            last.signal ? h('p.bubble.system', {}, signalText(last.signal)) : null,
          )
        : null,
  );
}
