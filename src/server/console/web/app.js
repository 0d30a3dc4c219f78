// @ts-check
/** The console's shell: sign-in, navigation between pages (#/live, #/calls, …), sign-out. */
import { api, SignedOut } from './api.js';
import { h } from './dom.js';
import { callPage } from './call.js';
import { callsPage } from './calls.js';
import { configPage } from './config.js';
import { livePage } from './live.js';
import { playgroundPage } from './playground.js';
import { statsPage } from './stats.js';

/** @typedef {{ agents: string[], hangupFunctions: Record<string, string>, defaultAgent: string | null, providers: string[], prices: Record<string, { input: number, output: number }>, currency: string, content: string, records: boolean }} Me */
/** @typedef {(view: HTMLElement, me: Me, arg: string) => (void | (() => void)) | Promise<void | (() => void)>} Page */

/** @type {Record<string, Page>} */
const PAGES = { live: livePage, calls: callsPage, call: callPage, stats: statsPage, playground: playgroundPage, config: configPage };

const view = /** @type {HTMLElement} */ (document.getElementById('view'));
const nav = /** @type {HTMLElement} */ (document.querySelector('header nav'));
/** @type {Me | undefined} */
let me;
/** @type {(() => void) | void} */
let leave;

async function route() {
  if (typeof leave === 'function') leave();
  leave = undefined;
  const [, name = 'live', ...rest] = location.hash.replace(/^#/, '').split('/');
  const page = PAGES[name] ?? livePage;
  for (const link of nav.querySelectorAll('a')) {
    const current = link.getAttribute('href') === `#/${name === 'call' ? 'calls' : name}`;
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  try {
    me ??= await api('me');
    nav.hidden = false;
    view.replaceChildren();
    leave = await page(view, me, rest.join('/'));
  } catch (error) {
    if (error instanceof SignedOut) return signIn();
    view.replaceChildren(h('p.error', { role: 'alert' }, String(/** @type {Error} */ (error).message)));
  }
}

function signIn() {
  me = undefined;
  nav.hidden = true;
  const message = h('p.error', { role: 'alert' });
  const key = /** @type {HTMLInputElement} */ (
    h('input', { type: 'password', name: 'key', required: true, autocomplete: 'current-password', id: 'admin-key' })
  );
  const form = h(
    'form',
    {
      onsubmit: async (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        message.textContent = '';
        try {
          await api('/console/session', { method: 'POST', body: { key: key.value } });
          key.value = '';
          await route();
        } catch (error) {
          message.textContent = error instanceof SignedOut ? 'That is not an admin key.' : String(/** @type {Error} */ (error).message);
        }
      },
    },
    h('label', { for: 'admin-key' }, 'Admin key'),
    key,
    h('button', { type: 'submit' }, 'Sign in'),
    message,
  );
  view.replaceChildren(
    h(
      'div.card.signin',
      {},
      h('h1', {}, 'Sign in'),
      h(
        'p.muted',
        {},
        'Use an admin key (admin.apiKeys, or the admin-key file in the data folder). It is exchanged for a session cookie and not kept in this page.',
      ),
      form,
    ),
  );
  key.focus();
}

document.getElementById('sign-out')?.addEventListener('click', async () => {
  await api('/console/session', { method: 'DELETE' }).catch(() => undefined);
  if (typeof leave === 'function') leave();
  leave = undefined;
  signIn();
});

window.addEventListener('hashchange', () => void route());
void route();
