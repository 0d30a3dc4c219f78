// @ts-check
/**
 * Turns and calls over time, failures and apologies, hangups and transfers, time to first words
 * (p50/p95/p99) by agent and provider, tokens and an estimated cost (console.prices).
 */
import { api, queryString } from './api.js';
import { h, ms } from './dom.js';

const RANGES = { '1h': [3600, 60], '24h': [86_400, 3600], '7d': [7 * 86_400, 6 * 3600], '30d': [30 * 86_400, 86_400] };

/** @param {HTMLElement} view @param {import('./app.js').Me} me @param {string} arg */
export async function statsPage(view, me, arg) {
  const range = /** @type {keyof typeof RANGES} */ (arg in RANGES ? arg : '24h');
  const [span, bucket] = RANGES[range];
  const to = new Date();
  const from = new Date(to.getTime() - span * 1000);
  const query = { from: from.toISOString(), to: to.toISOString() };
  const [series, stats] = await Promise.all([
    api(`admin/series${queryString({ ...query, bucket: String(bucket) })}`),
    api(`admin/stats${queryString(query)}`),
  ]);
  /** @type {any[]} */
  const charts = [];
  /** @param {string} title @param {any} config */
  const chart = (title, config) => {
    const canvas = h('canvas', { role: 'img', 'aria-label': title });
    const Chart = /** @type {any} */ (window).Chart;
    if (Chart) charts.push(new Chart(canvas, { ...config, options: { maintainAspectRatio: false, animation: false, ...config.options } }));
    return h('section.card', {}, h('h2', {}, title), h('div.chart', {}, canvas));
  };
  const labels = series.buckets.map((/** @type {any} */ b) =>
    new Date(b.at).toLocaleString([], bucket >= 86_400 ? { dateStyle: 'short' } : { dateStyle: 'short', timeStyle: 'short' }),
  );
  /** @param {string} key */
  const column = (key) => series.buckets.map((/** @type {any} */ b) => b[key]);
  const groups = stats.data.map((/** @type {any} */ row) => `${row.agent} / ${row.provider ?? 'none'}`);
  const price = (/** @type {any} */ row) => (row.provider ? me.prices[row.provider] : undefined);
  const cost = (/** @type {any} */ row) => {
    const p = price(row);
    return p ? (row.promptTokens * p.input + row.completionTokens * p.output) / 1e6 : null;
  };

  view.append(
    h('h1', {}, 'Stats'),
    h(
      'nav.row',
      { 'aria-label': 'Range' },
      ...Object.keys(RANGES).map((name) =>
        h('a', { href: `#/stats/${name}`, 'aria-current': name === range ? 'page' : undefined }, `last ${name}`),
      ),
    ),
    h(
      'div.grid',
      {},
      chart('Turns and calls', {
        type: 'line',
        data: {
          labels,
          datasets: [
            { label: 'turns', data: column('turns'), borderColor: '#0b5fcc' },
            { label: 'calls', data: column('calls'), borderColor: '#1b7f3b' },
          ],
        },
      }),
      chart('Failures, apologies, hangups, transfers', {
        type: 'bar',
        data: {
          labels,
          datasets: [
            { label: 'failures', data: column('failures'), backgroundColor: '#b3261e' },
            { label: 'apologies', data: column('apologies'), backgroundColor: '#a86200' },
            { label: 'hangups', data: column('hangups'), backgroundColor: '#5b6673' },
            { label: 'transfers', data: column('transfers'), backgroundColor: '#6b3fb3' },
          ],
        },
      }),
      chart('Time to first words (ms) by agent / provider', {
        type: 'bar',
        data: {
          labels: groups,
          datasets: [
            { label: 'p50', data: stats.data.map((/** @type {any} */ r) => r.ttftP50), backgroundColor: '#7fb0ef' },
            { label: 'p95', data: stats.data.map((/** @type {any} */ r) => r.ttftP95), backgroundColor: '#0b5fcc' },
            { label: 'p99', data: stats.data.map((/** @type {any} */ r) => r.ttftP99), backgroundColor: '#13202f' },
          ],
        },
      }),
    ),
    h('h2', {}, 'By agent and provider'),
    h(
      'table',
      { id: 'usage-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...[
            'Agent',
            'Provider',
            'Turns',
            'p50 / p95 / p99',
            'Failure rate',
            'Apology rate',
            'Hangups',
            'Transfers',
            'Tokens in / out',
            `Est. cost (${me.currency})`,
          ].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        ...series.usage.map((/** @type {any} */ row) => {
          const s = stats.data.find((/** @type {any} */ r) => r.agent === row.agent && r.provider === row.provider) ?? {};
          const estimate = cost(row);
          return h(
            'tr',
            {},
            h('td', {}, row.agent),
            h('td', {}, row.provider ?? '—'),
            h('td', {}, row.turns),
            h('td', {}, `${ms(s.ttftP50)} / ${ms(s.ttftP95)} / ${ms(s.ttftP99)}`),
            h('td', {}, percent(row.failures, row.turns)),
            h('td', {}, percent(row.apologies, row.turns)),
            h('td', {}, s.hangups ?? 0),
            h('td', {}, s.transfers ?? 0),
            h('td', {}, `${row.promptTokens} / ${row.completionTokens}`),
            h('td', {}, estimate === null ? 'no price set' : estimate.toFixed(4)),
          );
        }),
      ),
    ),
  );
  return () => charts.forEach((c) => c.destroy());
}

/** @param {number} part @param {number} whole */
const percent = (part, whole) => (whole === 0 ? '—' : `${((part / whole) * 100).toFixed(1)}%`);
