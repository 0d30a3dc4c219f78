// @ts-check
/** Tiny DOM helpers: every text goes in as text (never HTML), so recorded words cannot inject markup. */

/**
 * @param {string} tag `div`, `span.tag.ok`
 * @param {Record<string, any>} [props] attributes (on* are listeners, style an object)
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const node = document.createElement(name || 'div');
  if (classes.length) node.className = classes.join(' ');
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    // Through the CSSOM: the page's CSP refuses style attributes.
    else if (key === 'style') Object.assign(node.style, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'object' ? child : String(child));
  }
  return node;
}

/** @param {number | null | undefined} ms */
export const ms = (ms) => (ms === null || ms === undefined ? '—' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

/** @param {string | null | undefined} iso */
export const time = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

/** @param {string} outcome */
export function outcomeTag(outcome) {
  const kind =
    outcome === 'ok' || outcome === 'ended'
      ? 'ok'
      : outcome === 'apologized' || outcome === 'superseded' || outcome === 'client_closed'
        ? 'warn'
        : 'bad';
  return h(`span.tag.${kind}`, {}, outcome);
}

/** What the workflow does on a signal: "hangs up", "transfers to 1001". @param {string | null} signal */
export function signalText(signal) {
  if (!signal) return null;
  if (signal === 'hangup') return 'The workflow hangs up.';
  if (signal.startsWith('transfer:')) return `The workflow transfers the call to ${signal.slice('transfer:'.length) || 'a person'}.`;
  return signal;
}
