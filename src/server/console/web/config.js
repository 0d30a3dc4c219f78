// @ts-check
/** The running configuration, every secret redacted by the gateway before it leaves. */
import { api } from './api.js';
import { h } from './dom.js';

/** @param {HTMLElement} view */
export async function configPage(view) {
  const config = await api('config');
  view.append(
    h('h1', {}, 'Configuration'),
    h('p.muted', {}, 'The configuration the gateway runs with. Keys, tokens, header values and URL credentials are shown as [redacted].'),
    h('pre', { id: 'config-json' }, JSON.stringify(config, null, 2)),
  );
}
