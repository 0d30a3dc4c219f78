import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulate } from '../../tools/cli/commands/simulate.ts';
import { demoConfigSource } from '../../src/config/demo-config.ts';
import { startMockUpstream, textEvents } from '../../tools/testing/mock-upstream.ts';
import { parsePrometheusText } from '../support/prometheus.ts';
import { postgresSchemas } from '../support/postgres-schemas.ts';
import { textSink } from '../support/text-sink.ts';
import { startTestGateway, TEST_ADMIN_KEY, TEST_KEY, type TestGateway } from '../support/gateway-harness.ts';

const SCRIPT = `
caller: "13800000001"
callee: "4001234567"
userData: { plan: gold }
turns:
  - say: hello
  - say: what can you do
  - say: bye
    expect: { hangup: true }
`;

async function admin(gateway: TestGateway, path: string, key = TEST_ADMIN_KEY): Promise<Response> {
  return fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
}

/** A simulated call, then the admin API: every turn with its timings and outcome. */
async function simulatedCallIsOnRecord(databaseUrl: string | undefined): Promise<void> {
  const gateway = await startTestGateway(structuredClone(demoConfigSource) as Record<string, unknown>, databaseUrl ? { databaseUrl } : {});
  try {
    const dir = mkdtempSync(join(tmpdir(), 'vlg-records-'));
    writeFileSync(join(dir, 'call.yaml'), SCRIPT);
    const output = textSink();
    const code = await runSimulate(
      [
        '--base-url',
        `${gateway.url}/v1`,
        '--api-key',
        TEST_KEY,
        '--model',
        'demo',
        '--script',
        join(dir, 'call.yaml'),
        '--json',
        '--instance-id',
        'rec-call-1',
      ],
      { output, error: textSink() },
    );
    assert.equal(code, 0, output.text());
    await gateway.records!.flush();

    assert.equal((await admin(gateway, '/admin/calls/rec-call-1', TEST_KEY)).status, 401, 'the chat key is not an admin key');
    const response = await admin(gateway, '/admin/calls/rec-call-1');
    assert.equal(response.status, 200);
    const call = (await response.json()) as Record<string, any>;
    assert.equal(call.instanceId, 'rec-call-1');
    assert.equal(call.turns, 3);
    assert.equal(call.hangup, true);
    assert.equal(call.callerNumber, '138****0001', 'phone numbers are masked');
    const turns = call.turnRecords as Array<Record<string, any>>;
    assert.deepEqual(
      turns.map((t) => t.sentenceId),
      [1, 2, 3],
    );
    assert.deepEqual(
      turns.map((t) => t.callerText),
      ['hello', 'what can you do', 'bye'],
    );
    for (const turn of turns) {
      assert.equal(turn.outcome, 'ok');
      assert.equal(turn.agent, 'demo');
      assert.equal(turn.provider, 'demo-script');
      assert.equal(typeof turn.ttftMs, 'number');
      assert.ok(turn.ttftMs >= 0 && turn.ttftMs <= turn.totalMs, `ttft ${turn.ttftMs} within total ${turn.totalMs}`);
      assert.ok(turn.answerText.length > 0);
      assert.equal(turn.userData, '{"plan":"gold"}');
      assert.equal(turn.synthetic, 'simulate', 'simulated turns are marked as test traffic');
    }
    assert.match(turns[0]!.answerText, /connection works/);
    assert.equal(turns[2]!.signal, 'hangup');
    assert.equal(turns[2]!.finishReason, 'tool_calls');

    const list = (await (await admin(gateway, '/admin/calls?agent=demo')).json()) as { data: Array<{ instanceId: string }>; total: number };
    assert.ok(list.data.some((c) => c.instanceId === 'rec-call-1'));

    // Found by the full number, however it is written, although only the mask is stored.
    const found = async (query: string) => {
      const response = await admin(gateway, `/admin/calls?${query}`);
      assert.equal(response.status, 200, query);
      return ((await response.json()) as { data: Array<{ instanceId: string }> }).data.map((c) => c.instanceId);
    };
    for (const caller of ['13800000001', '+8613800000001', '+86 138-0000-0001', '008613800000001', '0001', '138****0001']) {
      assert.deepEqual(await found(`caller=${encodeURIComponent(caller)}`), ['rec-call-1'], caller);
    }
    assert.deepEqual(await found('caller=13800000002'), []);
    assert.deepEqual(await found(`callee=${encodeURIComponent('400-123-4567')}`), ['rec-call-1']);
    assert.deepEqual(await found('callee=13800000001'), []);
    assert.deepEqual(await found('synthetic=exclude'), []);
    assert.deepEqual(await found('synthetic=only'), ['rec-call-1']);
    const keyFile = join(gateway.dataDir, 'lookup-key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'the generated lookup key is private');
    const stored = JSON.stringify(call);
    assert.doesNotMatch(stored, /13800000001|4001234567/, 'no full number is shown');
    const lookupKey = readFileSync(keyFile, 'utf8').trim();
    assert.ok(!stored.includes(lookupKey));
    assert.ok(!gateway.logText().includes(lookupKey) && !/13800000001|4001234567/.test(gateway.logText()), 'nor in a log');

    // The stats leave test traffic out unless asked.
    const defaultStats = (await (await admin(gateway, '/admin/stats')).json()) as { data: Array<Record<string, any>> };
    assert.equal(
      defaultStats.data.find((row) => row.agent === 'demo'),
      undefined,
    );
    const stats = (await (await admin(gateway, '/admin/stats?synthetic=only')).json()) as { data: Array<Record<string, any>> };
    const demo = stats.data.find((row) => row.agent === 'demo')!;
    assert.ok(demo.turns >= 3);
    assert.ok(demo.hangups >= 1);
    assert.equal(typeof demo.ttftP50, 'number');
    assert.ok(Number.isInteger(demo.ttftP50), 'whole milliseconds');
  } finally {
    await gateway.close();
  }
}

describe('every call on the record', () => {
  it('SQLite: a simulated call shows every turn with timings and outcomes in the admin API', async () => {
    await simulatedCallIsOnRecord(undefined);
  });

  const databaseUrl = process.env.DATABASE_URL;
  const schemas = databaseUrl ? postgresSchemas(databaseUrl, 'vlg_e2e') : undefined;
  after(async () => {
    await schemas?.dropAll();
  });
  it('PostgreSQL: the same call on the record', {
    skip: schemas ? false : 'DATABASE_URL is not set: PostgreSQL records are not tested here (.ci/run sets it)',
  }, async () => {
    await simulatedCallIsOnRecord(await schemas!.create());
  });

  it('records every outcome kind, and /metrics is scraped by a Prometheus text parser', async () => {
    const upstream = await startMockUpstream();
    const gateway = await startTestGateway({
      providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url, retry: { maxRetries: 0 } } },
      agents: { a: { provider: 'mock', model: 'm' } },
    });
    try {
      const turn = (instanceId: string, content = 'hi') =>
        gateway.post('/v1/chat/completions', {
          model: 'a',
          stream: true,
          messages: [{ role: 'user', content }],
          extendData: { instanceId, sentenceId: 1 },
        });
      upstream.respondWith({ events: textEvents('Fine, thanks.') });
      await (await turn('ok-call')).text();
      upstream.respondWith({ status: 500, body: '{"error":{"message":"down"}}' });
      await (await turn('apology-call')).text();
      upstream.respondWith({ events: textEvents('This will break in the middle.'), destroyAfterEvents: 3 });
      await (await turn('broken-call')).text();
      upstream.respondWith({ events: textEvents('A slow answer that the caller leaves.'), eventIntervalMs: 50 });
      const controller = new AbortController();
      const leaving = await gateway.post(
        '/v1/chat/completions',
        { model: 'a', stream: true, messages: [{ role: 'user', content: 'x' }], extendData: { instanceId: 'closed-call' } },
        { signal: controller.signal },
      );
      await leaving.body!.getReader().read();
      controller.abort();
      await upstream.waitForAbort(upstream.requests.length - 1, 2000);
      await new Promise((r) => setTimeout(r, 100));
      await gateway.records!.flush();

      const outcomes: Record<string, string> = {};
      for (const id of ['ok-call', 'apology-call', 'broken-call', 'closed-call']) {
        const call = (await (await admin(gateway, `/admin/calls/${id}`)).json()) as {
          turnRecords: Array<{ outcome: string; errorCode: string | null; cancellation: string | null }>;
        };
        outcomes[id] = call.turnRecords[0]!.outcome;
        if (id === 'apology-call') assert.equal(call.turnRecords[0]!.errorCode, 'upstream_error');
        if (id === 'closed-call') assert.equal(call.turnRecords[0]!.cancellation, 'client_closed');
      }
      assert.deepEqual(outcomes, {
        'ok-call': 'ok',
        'apology-call': 'apologized',
        'broken-call': 'upstream_broken',
        'closed-call': 'client_closed',
      });

      const metrics = await fetch(`${gateway.url}/metrics`);
      assert.equal(metrics.status, 200);
      const families = parsePrometheusText(await metrics.text());
      const family = (name: string) => families.find((f) => f.name === name);
      const turns = family('vlg_turns_total')!;
      const byOutcome = Object.fromEntries(turns.metrics.map((m) => [m.labels!.outcome, Number(m.value)]));
      assert.equal(byOutcome.ok, 1);
      assert.equal(byOutcome.apologized, 1);
      assert.equal(byOutcome.upstream_broken, 1);
      assert.equal(byOutcome.client_closed, 1);
      assert.equal(Number(family('vlg_active_streams')!.metrics[0]!.value), 0);
      assert.ok(family('vlg_time_to_first_token_seconds'));
      assert.ok(family('vlg_upstream_errors_total'));
      assert.ok(family('process_cpu_user_seconds_total'));
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
