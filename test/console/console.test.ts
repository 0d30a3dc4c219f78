/// <reference lib="dom" />
/**
 * The operator's console in a real browser (Debian's Chromium through playwright-core), against
 * the real gateway with a mock upstream, while real calls flow. Screenshots of each page go to
 * docs/console/ when UPDATE_SCREENSHOTS=1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { demoConfigSource } from '../../src/config/demo-config.ts';
import { startMockUpstream, textEvents, type MockUpstream } from '../../tools/testing/mock-upstream.ts';
import { imsRequest, readStream, startTestGateway, TEST_ADMIN_KEY, type TestGateway } from '../support/gateway-harness.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = new URL('../../docs/console/', import.meta.url);
const CALLBACK_TOKEN = 'callback-token-123456';
const UPSTREAM_KEY = 'sk-upstream-secret-value';
const SLOW_ANSWER = 'Your parcel left the warehouse this morning and arrives tomorrow before noon.';

const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;

describe('the console in a browser', { skip, timeout: 120_000 }, () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let requests = 0;

  before(async () => {
    upstream = await startMockUpstream();
    // The first request fails once (a retry shows on the waterfall); answers drip, so the live view sees them stream.
    upstream.respondWith(() =>
      ++requests === 1
        ? { status: 503, body: '{"error":{"message":"busy"}}' }
        : { events: textEvents(SLOW_ANSWER, { chunkSize: 6, usage: true }), eventIntervalMs: 120 },
    );
    const demo = structuredClone(demoConfigSource) as { providers: Record<string, unknown>; agents: Record<string, unknown> };
    gateway = await startTestGateway({
      ...demo,
      providers: {
        ...demo.providers,
        courier: {
          type: 'openai-compatible',
          baseUrl: upstream.url,
          apiKey: UPSTREAM_KEY,
          retry: { maxRetries: 1, backoffMs: 20 },
        },
      },
      agents: { ...demo.agents, courier: { provider: 'courier', model: 'mock-model' } },
      defaultAgent: 'demo',
      admin: { listen: { host: '127.0.0.1', port: 0 } },
      callbacks: { token: CALLBACK_TOKEN },
      console: { prices: { courier: { input: 0.5, output: 1.5 } } },
      records: { flushIntervalMs: 20 },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
    await upstream?.close();
  });

  const shot = async (name: string, fullPage = true) => {
    if (process.env.UPDATE_SCREENSHOTS !== '1') return;
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage });
  };
  const courierCall = (instanceId: string, words: string, sentenceId: number) =>
    gateway.post(
      '/v1/chat/completions',
      imsRequest('courier', words, {
        extendData: {
          instanceId,
          channelId: instanceId,
          sentenceId: String(sentenceId),
          callerNumber: '13800000001',
          calleeNumber: '4001234567',
        },
      }),
    );

  it('keeps the management plane off the public listener (admin.listen)', async () => {
    assert.notEqual(gateway.managementUrl, gateway.url);
    for (const path of ['/console', '/admin/calls', '/metrics']) {
      assert.equal((await fetch(gateway.url + path)).status, 404, path);
    }
    assert.equal((await fetch(`${gateway.managementUrl}/console`)).status, 200);
  });

  it('signs in with the admin key only, into an HttpOnly session', async () => {
    await page.goto(`${gateway.managementUrl}/console`);
    await page.getByLabel('Admin key').fill('not-the-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That is not an admin key.').waitFor();
    await shot('sign-in');
    await page.getByLabel('Admin key').fill(TEST_ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Live calls' }).waitFor();
    assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is not readable by scripts');
    assert.ok(!page.url().includes(TEST_ADMIN_KEY));
    // A request without the console's header (what another origin's form could send) is refused.
    const forged = await fetch(`${gateway.managementUrl}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: TEST_ADMIN_KEY }),
    });
    assert.equal(forged.status, 403);
  });

  it('shows a call live, its answer streaming as it is sent', async () => {
    const first = await courierCall('live-call-1', 'Where is my parcel?', 1);
    const streaming = page.locator('[data-call="live-call-1"] .live-text');
    await streaming.waitFor();
    await page.waitForFunction(() => (document.querySelector('[data-call="live-call-1"] .live-text')?.textContent ?? '').length > 30);
    const partial = (await streaming.textContent()) ?? '';
    assert.ok(partial.length < SLOW_ANSWER.length, `seen while streaming: ${partial}`);
    await shot('live');
    assert.equal((await readStream(first)).text, SLOW_ANSWER);
    await page.locator('[data-call="live-call-1"]').getByText('first words after').waitFor();
    // A second turn of the same call, then the platform's callbacks.
    assert.equal((await readStream(await courierCall('live-call-1', 'Thank you, that is all.', 2))).text, SLOW_ANSWER);
    await gateway.records!.flush();
    for (const [event, extra] of [
      ['audio_record', { audioUrl: 'https://oss.example.com/rec/live-call-1.wav' }],
      ['agent_stop', {}],
    ] as const) {
      const response = await fetch(`${gateway.url}/ims/callbacks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CALLBACK_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          aiAgentId: 'agent-1',
          instanceId: 'live-call-1',
          event,
          code: 1001,
          message: 'ok',
          timestamp: new Date().toISOString(),
          ...extra,
        }),
      });
      assert.equal(response.status, 200, await response.text());
    }
  });

  it('finds the call by what was said, and shows its transcript and waterfall', async () => {
    await page.getByRole('link', { name: 'Calls' }).click();
    await page.getByLabel('Said (free text)').fill('warehouse');
    await page.getByLabel('Agent').selectOption('courier');
    await page.getByRole('button', { name: 'Search' }).click();
    const link = page.locator('#calls-table').getByRole('link', { name: 'live-call-1' });
    await link.waitFor();
    await shot('calls');
    // The same search, as the turns that matched.
    await page.getByLabel('Show').selectOption('turns');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#calls-table').getByRole('cell', { name: 'Where is my parcel?' }).waitFor();
    assert.equal(await link.count(), 2, 'both turns of the call said it');
    await link.first().click();
    await page.getByRole('heading', { name: 'Call live-call-1' }).waitFor();
    const firstTurn = page.locator('article.turn').first();
    await firstTurn.getByText('Where is my parcel?').waitFor();
    for (const label of [
      'courier retried (upstream_error)',
      'courier committed',
      'first upstream token',
      'first byte to platform',
      'answer streaming',
    ]) {
      await firstTurn.locator('.waterfall').getByText(label, { exact: false }).first().waitFor();
    }
    await page.locator('[data-event="audio_record"] audio').waitFor({ state: 'attached' });
    await page.locator('[data-event="agent_stop"]').waitFor();
    await shot('call');
  });

  it('draws the stats with chart.js, with tokens and an estimated cost', async () => {
    await page.getByRole('link', { name: 'Stats' }).click();
    await page.locator('#usage-table').getByRole('cell', { name: 'courier' }).first().waitFor();
    assert.ok(
      await page.evaluate(() => typeof (window as unknown as { Chart?: unknown }).Chart === 'function'),
      'chart.js is served by the gateway',
    );
    assert.ok((await page.locator('canvas').count()) >= 3);
    const row = page.locator('#usage-table tr', { hasText: 'courier' }).first();
    assert.doesNotMatch((await row.textContent()) ?? '', /no price set/);
    await shot('stats');
  });

  it('holds a call in the playground until the agent hangs up, recorded as console traffic', async () => {
    await page.getByRole('link', { name: 'Playground' }).click();
    await page.getByLabel('Agent').selectOption('demo');
    const instanceId = await page.getByLabel('instanceId').inputValue();
    await page.getByPlaceholder('What the caller says').fill('hello');
    await page.getByRole('button', { name: 'Say' }).click();
    await page.getByText('Your turn.').waitFor();
    await page.getByPlaceholder('What the caller says').fill('bye');
    await page.getByRole('button', { name: 'Say' }).click();
    await page.getByText('The workflow hangs up.').waitFor();
    await page.getByRole('link', { name: 'See it on the record' }).waitFor();
    await shot('playground');
    await gateway.records!.flush();
    const turns = await fetch(`${gateway.managementUrl}/admin/turns?synthetic=console`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    });
    const body = (await turns.json()) as { data: Array<{ instanceId: string; signal: string | null }> };
    assert.deepEqual(
      body.data.map((t) => [t.instanceId, t.signal]),
      [
        [instanceId, 'hangup'],
        [instanceId, null],
      ],
    );
  });

  it('barges in on a streaming answer in the playground: the answer is cut where the caller cut in', async () => {
    await page.getByRole('button', { name: 'New call' }).click();
    await page.getByLabel('Agent').selectOption('courier');
    await page.getByPlaceholder('What the caller says').fill('Where is my parcel?');
    await page.getByRole('button', { name: 'Say' }).click();
    await page.waitForFunction(() => (document.querySelector('#pg-transcript .live-text')?.textContent ?? '').length > 5);
    await page.getByRole('button', { name: 'Barge in' }).click();
    await page.locator('#pg-transcript').getByText('the caller cut in').waitFor();
    const heard = (await page.locator('#pg-transcript .bubble.agent').last().textContent()) ?? '';
    assert.ok(heard.length < SLOW_ANSWER.length + ' ✂ the caller cut in'.length, heard);
    // The gateway stopped the turn with the page: on the record as cut, with what was said so far.
    let outcome: string | undefined;
    for (let tries = 0; tries < 50 && outcome === undefined; tries++) {
      await gateway.records!.flush();
      const turns = await fetch(`${gateway.managementUrl}/admin/turns?agent=courier&synthetic=console`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
      });
      outcome = ((await turns.json()) as { data: Array<{ outcome: string }> }).data[0]?.outcome;
      if (outcome === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(outcome, 'client_closed');
  });

  it('shows the configuration with every secret redacted', async () => {
    await page.getByRole('link', { name: 'Config' }).click();
    const text = (await page.locator('#config-json').textContent()) ?? '';
    assert.match(text, /"courier"/);
    for (const secret of [UPSTREAM_KEY, TEST_ADMIN_KEY, CALLBACK_TOKEN]) assert.ok(!text.includes(secret), 'no secret on the page');
    await shot('config', false);
    assert.ok(!gateway.logText().includes(TEST_ADMIN_KEY), 'the admin key never reaches the log');
  });
});
