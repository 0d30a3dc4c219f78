import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate } from '../../src/agent/prompt/render-template.ts';
import { buildTemplateView, formatNow } from '../../src/agent/prompt/template-view.ts';
import { growthRatio } from '../../tools/testing/growth.ts';

const at = new Date('2026-11-25T16:30:00Z');

describe('prompt templates', () => {
  it("fills call fields, nested userData, query and the time in the agent's zone", () => {
    const view = buildTemplateView(
      {
        instanceId: 'i',
        channelId: 'c',
        sentenceId: 3,
        callerNumber: '138',
        userData: { customer: { name: 'Wang', tier: 'gold' } },
        userDataRaw: '',
        userDataInvalid: false,
      },
      { task_id: 't1' },
      {},
      'Asia/Shanghai',
      'en',
      at,
    );
    const out = renderTemplate(
      '{{callerNumber}}|{{calleeNumber}}|{{userData.customer.name}}|{{userData.customer.tier}}|{{query.task_id}}|{{sentenceId}}|{{now}}',
      view,
    );
    assert.equal(out, '138||Wang|gold|t1|3|2026-11-26 00:30, Thursday (Asia/Shanghai)');
  });

  it('renders missing variables empty or with their declared defaults, never as braces, and never escapes', () => {
    const view = buildTemplateView(
      { userDataRaw: 'not json', userDataInvalid: true },
      {},
      { callerNumber: 'unknown', 'userData.name': 'there' },
      'UTC',
      'en',
      at,
    );
    assert.equal(
      renderTemplate('[{{callerNumber}}] [{{userData.name}}] [{{missing}}] [{{query.x}}] [{{userDataRaw}}]', view),
      '[unknown] [there] [] [] [not json]',
    );
    const quoted = buildTemplateView({ userData: { note: '<b> & "q"' }, userDataInvalid: false }, {}, {}, 'UTC', 'en', at);
    assert.equal(renderTemplate('{{userData.note}}', quoted), '<b> & "q"');
  });

  it("keeps the call's own values over defaults and does not mutate the parsed userData", () => {
    const userData = { name: 'Li' };
    const view = buildTemplateView(
      { userData, userDataInvalid: false },
      {},
      { 'userData.name': 'there', 'userData.city': 'Hangzhou' },
      'UTC',
      'en',
      at,
    );
    assert.equal(renderTemplate('{{userData.name}} {{userData.city}}', view), 'Li Hangzhou');
    assert.deepEqual(userData, { name: 'Li' });
  });

  it('formats now per time zone', () => {
    assert.equal(formatNow(at, 'UTC'), '2026-11-25 16:30, Wednesday (UTC)');
    assert.equal(formatNow(at, 'America/New_York'), '2026-11-25 11:30, Wednesday (America/New_York)');
  });

  it('formats now in Chinese: date, weekday, then the time', () => {
    assert.equal(formatNow(at, 'UTC', 'zh'), '2026年11月25日 星期三 16:30（UTC）');
    assert.equal(formatNow(at, 'Asia/Shanghai', 'zh'), '2026年11月26日 星期四 00:30（Asia/Shanghai）');
    assert.equal(formatNow(new Date('2026-01-04T01:05:00Z'), 'Asia/Shanghai', 'zh'), '2026年1月4日 星期日 09:05（Asia/Shanghai）');
    const view = buildTemplateView({ userDataInvalid: false }, {}, {}, 'Asia/Shanghai', 'zh', at);
    assert.equal(renderTemplate('现在是{{now}}。', view), '现在是2026年11月26日 星期四 00:30（Asia/Shanghai）。');
  });
});

describe('buildTemplateView on a large userData', () => {
  it('copies userData once for all its defaults, not once per default', async () => {
    const userData = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 'v']));
    const defaults = (scale: number): Record<string, string> =>
      Object.fromEntries(Array.from({ length: 2 * scale }, (_, i) => [`userData.d${i}`, 'x']));
    const ratio = await growthRatio(defaults, (d) => buildTemplateView({ userData, userDataInvalid: false }, {}, d, 'UTC', 'en', at));
    assert.ok(ratio < 4, `8x the defaults took ${ratio.toFixed(1)}x the time`);
  });
});
