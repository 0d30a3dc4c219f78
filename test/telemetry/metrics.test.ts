import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { ToolRun } from '../../src/agent/converse.ts';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { registerMetrics } from '../../src/server/routes/metrics-endpoint.ts';
import { GatewayMetrics, OTHER, summarizeTurn, TTFT_BUCKETS, type TurnSummary } from '../../src/telemetry/metrics.ts';
import { TurnReport } from '../../src/telemetry/turn-report.ts';
import { classifyTurn, FINISHED } from '../../src/telemetry/turn-outcome.ts';
import { cancellation } from '../../src/calls/cancellation.ts';
import { parsePrometheusText, type PrometheusFamily } from '../support/prometheus.ts';

type Family = PrometheusFamily;

async function scrape(metrics: GatewayMetrics): Promise<Map<string, Family>> {
  const families = parsePrometheusText(await metrics.metricsText());
  const byName = new Map<string, Family>();
  for (const family of families) {
    assert.ok(!byName.has(family.name), `family ${family.name} appears twice`);
    byName.set(family.name, family);
  }
  return byName;
}

function family(families: Map<string, Family>, name: string, type: string): Family {
  const found = families.get(name);
  assert.ok(found, `missing metric family ${name}`);
  assert.equal(found.type, type, `${name} type`);
  return found;
}

/** The value of the sample whose labels are exactly `labels` (0 when absent). */
function sampleValue(found: Family, labels: Record<string, string> = {}): number {
  const sample = found.metrics.find((s) => sameLabels(s.labels ?? {}, labels));
  return sample?.value === undefined ? 0 : Number(sample.value);
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** Every sample of a counter, as `label=value,... -> count`, for whole-family comparisons. */
function table(found: Family): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sample of found.metrics) {
    const key = Object.entries(sample.labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    out[key] = Number(sample.value);
  }
  return out;
}

const TURNS: TurnSummary[] = [
  {
    agent: 'support',
    provider: 'fast',
    outcome: 'ok',
    ttftSeconds: 0.12,
    overheadSeconds: 0.0008,
    attempts: [{ provider: 'fast', outcome: 'committed' }],
    toolRuns: [{ name: 'lookup_order', ok: true }],
  },
  {
    // Rate limited, retried, timed out, then answered by the backup: a fallback with a transfer.
    agent: 'support',
    provider: 'backup',
    outcome: 'ok',
    ttftSeconds: 0.9,
    attempts: [
      { provider: 'fast', outcome: 'retried', errorCode: 'upstream_rate_limited' },
      { provider: 'fast', outcome: 'failed', errorCode: 'upstream_first_token_timeout' },
      { provider: 'backup', outcome: 'committed' },
    ],
    toolRuns: [
      { name: 'lookup_order', ok: false, error: 'timeout' },
      { name: 'lookup_order', ok: true },
    ],
    signal: 'transfer',
  },
  {
    agent: 'support',
    provider: 'fast',
    outcome: 'client_closed',
    overheadSeconds: 0.003,
    attempts: [{ provider: 'fast', outcome: 'committed' }],
    toolRuns: [],
    cancellation: 'client_closed',
  },
  {
    agent: 'sales',
    provider: 'fast',
    outcome: 'ok',
    ttftSeconds: 0.3,
    overheadSeconds: 0.02,
    attempts: [{ provider: 'fast', outcome: 'committed' }],
    toolRuns: [],
    signal: 'hangup',
  },
  {
    agent: 'sales',
    provider: 'fast',
    outcome: 'superseded',
    ttftSeconds: 0.04,
    attempts: [{ provider: 'fast', outcome: 'committed' }],
    toolRuns: [],
    cancellation: 'superseded',
  },
  {
    // Circuit open on the first provider, the second unreachable: no answer, no fallback.
    agent: 'support',
    provider: 'fast',
    outcome: 'error',
    attempts: [
      { provider: 'fast', outcome: 'skipped', errorCode: 'circuit_open' },
      { provider: 'backup', outcome: 'failed', errorCode: 'upstream_unreachable' },
    ],
    toolRuns: [],
  },
];

describe('GatewayMetrics', () => {
  it('records turns, upstream faults, tools, signals and cancellations', async () => {
    const metrics = new GatewayMetrics();
    for (const turn of TURNS) metrics.observeTurn(turn);
    const families = await scrape(metrics);

    assert.deepEqual(table(family(families, 'vlg_turns_total', 'COUNTER')), {
      'agent=support,provider=fast,outcome=ok': 1,
      'agent=support,provider=backup,outcome=ok': 1,
      'agent=support,provider=fast,outcome=client_closed': 1,
      'agent=sales,provider=fast,outcome=ok': 1,
      'agent=sales,provider=fast,outcome=superseded': 1,
      'agent=support,provider=fast,outcome=error': 1,
    });
    assert.deepEqual(table(family(families, 'vlg_upstream_errors_total', 'COUNTER')), {
      'provider=fast,kind=upstream_rate_limited': 1,
      'provider=fast,kind=upstream_first_token_timeout': 1,
      'provider=fast,kind=circuit_open': 1,
      'provider=backup,kind=upstream_unreachable': 1,
    });
    assert.deepEqual(table(family(families, 'vlg_upstream_retries_total', 'COUNTER')), { 'provider=fast': 1 });
    assert.deepEqual(table(family(families, 'vlg_fallbacks_total', 'COUNTER')), { 'agent=support,provider=backup': 1 });
    assert.deepEqual(table(family(families, 'vlg_cancellations_total', 'COUNTER')), {
      'agent=support,reason=client_closed': 1,
      'agent=sales,reason=superseded': 1,
    });
    assert.deepEqual(table(family(families, 'vlg_tool_calls_total', 'COUNTER')), {
      'tool=lookup_order,result=ok': 2,
      'tool=lookup_order,result=timeout': 1,
    });
    assert.deepEqual(table(family(families, 'vlg_hangups_total', 'COUNTER')), { 'agent=sales': 1 });
    assert.deepEqual(table(family(families, 'vlg_transfers_total', 'COUNTER')), { 'agent=support': 1 });
  });

  it('counts the key presses the model asked for that were dropped, by agent and reason', async () => {
    const metrics = new GatewayMetrics();
    const turn = { provider: 'fast', outcome: 'ok', attempts: [], toolRuns: [] } as const;
    metrics.observeTurn({ ...turn, agent: 'menu', keyPressesDropped: [{ reason: 'no_keypad' }, { reason: 'invalid_keys' }] });
    metrics.observeTurn({ ...turn, agent: 'menu', keyPressesDropped: [{ reason: 'no_keypad' }] });
    metrics.observeTurn({ ...turn, agent: 'support' });
    assert.deepEqual(table(family(await scrape(metrics), 'vlg_key_presses_dropped_total', 'COUNTER')), {
      'agent=menu,reason=no_keypad': 2,
      'agent=menu,reason=invalid_keys': 1,
    });
  });

  it('fills the gateway-overhead histogram buckets', async () => {
    const metrics = new GatewayMetrics();
    for (const turn of TURNS) metrics.observeTurn(turn);
    const overhead = family(await scrape(metrics), 'vlg_gateway_overhead_seconds', 'HISTOGRAM');
    assert.equal(overhead.metrics.length, 1);
    const sample = overhead.metrics[0]!;
    // Observed: 0.0008, 0.003, 0.02.
    assert.deepEqual(sample.buckets, {
      '0.0005': '0',
      '0.001': '1',
      '0.0025': '1',
      '0.005': '2',
      '0.01': '2',
      '0.025': '3',
      '0.05': '3',
      '0.1': '3',
      '0.25': '3',
      '0.5': '3',
      '+Inf': '3',
    });
    assert.equal(Number(sample.count), 3);
    assert.ok(Math.abs(Number(sample.sum) - 0.0238) < 1e-9);
  });

  it('fills the time-to-first-token histogram per agent and provider', async () => {
    const metrics = new GatewayMetrics();
    for (const seconds of [0.04, 0.12, 0.12, 0.6, 12]) {
      metrics.observeTurn({ agent: 'support', provider: 'fast', outcome: 'ok', ttftSeconds: seconds, attempts: [], toolRuns: [] });
    }
    metrics.observeTurn({ agent: 'support', provider: 'fast', outcome: 'error', attempts: [], toolRuns: [] }); // no text: not observed
    const text = await metrics.metricsText();
    const ttft = family(await scrape(metrics), 'vlg_time_to_first_token_seconds', 'HISTOGRAM');
    // (The parser keeps the buckets of a labelled histogram but not its labels, count and sum: one series here.)
    const buckets = ttft.metrics[0]!.buckets!;
    assert.deepEqual(Object.keys(buckets).sort(), [...TTFT_BUCKETS.map(String), '+Inf'].sort());
    assert.equal(buckets['0.05'], '1');
    assert.equal(buckets['0.1'], '1');
    assert.equal(buckets['0.15'], '3');
    assert.equal(buckets['0.5'], '3');
    assert.equal(buckets['0.75'], '4');
    assert.equal(buckets['10'], '4');
    assert.equal(buckets['+Inf'], '5');
    assert.match(text, /^vlg_time_to_first_token_seconds_count\{agent="support",provider="fast"\} 5$/m);
    assert.match(text, /^vlg_time_to_first_token_seconds_bucket\{le="0\.15",agent="support",provider="fast"\} 3$/m);
  });

  it('tracks active streams back to zero', async () => {
    const metrics = new GatewayMetrics();
    for (let i = 0; i < 3; i++) metrics.streamStarted();
    assert.equal(sampleValue(family(await scrape(metrics), 'vlg_active_streams', 'GAUGE')), 3);
    metrics.streamEnded();
    assert.equal(sampleValue(family(await scrape(metrics), 'vlg_active_streams', 'GAUGE')), 2);
    metrics.streamEnded();
    metrics.streamEnded();
    assert.equal(sampleValue(family(await scrape(metrics), 'vlg_active_streams', 'GAUGE')), 0);
  });

  it('reads the record queue at scrape time and never lets the drop counter go down', async () => {
    const metrics = new GatewayMetrics();
    let families = await scrape(metrics);
    assert.equal(sampleValue(family(families, 'vlg_record_queue_depth', 'GAUGE')), 0);
    assert.equal(sampleValue(family(families, 'vlg_records_dropped_total', 'COUNTER'), { reason: 'queue_full' }), 0);

    const store = {
      queueDepth: 5,
      dropped: 2,
      droppedByReason: { queue_full: 2, write_failed: 0, invalid_record: 0 },
      truncated: new Map([['answerText', 1]]),
    };
    metrics.trackRecordQueue(store);
    families = await scrape(metrics);
    assert.equal(sampleValue(family(families, 'vlg_record_queue_depth', 'GAUGE')), 5);
    assert.equal(sampleValue(family(families, 'vlg_records_dropped_total', 'COUNTER'), { reason: 'queue_full' }), 2);
    assert.equal(sampleValue(family(families, 'vlg_record_fields_truncated_total', 'COUNTER'), { field: 'answerText' }), 1);

    store.queueDepth = 0;
    store.droppedByReason = { queue_full: 5, write_failed: 1, invalid_record: 1 };
    store.truncated.set('answerText', 3).set('toolRuns', 2);
    families = await scrape(metrics);
    assert.equal(sampleValue(family(families, 'vlg_record_queue_depth', 'GAUGE')), 0);
    const dropped = () => family(families, 'vlg_records_dropped_total', 'COUNTER');
    assert.deepEqual(
      ['queue_full', 'write_failed', 'invalid_record'].map((reason) => sampleValue(dropped(), { reason })),
      [5, 1, 1],
    );
    assert.equal(sampleValue(family(families, 'vlg_record_fields_truncated_total', 'COUNTER'), { field: 'answerText' }), 3);
    assert.equal(sampleValue(family(families, 'vlg_record_fields_truncated_total', 'COUNTER'), { field: 'toolRuns' }), 2);
    families = await scrape(metrics); // scraping again counts nothing twice
    assert.equal(sampleValue(dropped(), { reason: 'queue_full' }), 5);

    // A new store starts from 0.
    metrics.trackRecordQueue({ queueDepth: 1, dropped: 1, droppedByReason: { queue_full: 1, write_failed: 0, invalid_record: 0 } });
    families = await scrape(metrics);
    assert.equal(sampleValue(dropped(), { reason: 'queue_full' }), 6);
  });

  it('reads the shared call state at scrape time: up or degraded, fallbacks by operation, remote cancels; nothing of it in memory mode', async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    let families = await scrape(metrics);
    assert.deepEqual(family(families, 'vlg_shared_state_up', 'GAUGE').metrics, [], 'memory mode: no up/down sample');
    const shared: { sharedState: 'up' | 'degraded'; fallbacks: Record<string, number>; remoteCancels: number } = {
      sharedState: 'up',
      fallbacks: { admit: 0, begin: 0 },
      remoteCancels: 2,
    };
    metrics.trackSharedState(shared);
    families = await scrape(metrics);
    assert.deepEqual(table(family(families, 'vlg_shared_state_up', 'GAUGE')), { 'store=redis': 1 });
    assert.equal(sampleValue(family(families, 'vlg_shared_state_remote_cancels_total', 'COUNTER')), 2);
    shared.sharedState = 'degraded';
    shared.fallbacks = { admit: 3, begin: 1 };
    families = await scrape(metrics);
    families = await scrape(metrics); // scraping again counts nothing twice
    assert.deepEqual(table(family(families, 'vlg_shared_state_up', 'GAUGE')), { 'store=redis': 0 });
    assert.deepEqual(table(family(families, 'vlg_shared_state_fallbacks_total', 'COUNTER')), {
      'operation=admit': 3,
      'operation=begin': 1,
    });
  });

  it('reads the calls at scrape time: count, bytes, evictions by reason (never going down); rejected call ids by field', async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    const calls = { size: 3, memoryBytes: 4096, evictions: { idle: 1, memory_limit: 0, call_limit: 0, new_call: 2 } };
    metrics.trackCalls(calls);
    let families = await scrape(metrics);
    assert.equal(sampleValue(family(families, 'vlg_calls', 'GAUGE')), 3);
    assert.equal(sampleValue(family(families, 'vlg_call_memory_bytes', 'GAUGE')), 4096);
    calls.evictions.memory_limit = 5;
    families = await scrape(metrics);
    families = await scrape(metrics); // scraping again counts nothing twice
    assert.deepEqual(table(family(families, 'vlg_call_evictions_total', 'COUNTER')), {
      'reason=idle': 1,
      'reason=memory_limit': 5,
      'reason=new_call': 2,
    });

    metrics.countRejectedExtendData('sentenceId');
    metrics.countRejectedExtendData('instanceId');
    metrics.countRejectedExtendData('anything the client wrote');
    assert.deepEqual(table(family(await scrape(metrics), 'vlg_rejected_extend_data_total', 'COUNTER')), {
      'field=instanceId': 1,
      'field=sentenceId': 1,
      [`field=${OTHER}`]: 1,
    });
  });

  it('counts admission rejections by reason', async () => {
    const metrics = new GatewayMetrics();
    metrics.countAdmissionRejection('rate_limit_exceeded');
    metrics.countAdmissionRejection('rate_limit_exceeded');
    metrics.countAdmissionRejection('too_many_concurrent_streams');
    assert.deepEqual(table(family(await scrape(metrics), 'vlg_admission_rejections_total', 'COUNTER')), {
      'reason=rate_limit_exceeded': 2,
      'reason=too_many_concurrent_streams': 1,
    });
  });

  it('keeps label cardinality bounded', async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    for (let i = 0; i < 300; i++) {
      metrics.observeTurn({ agent: `agent-${i}`, provider: 'fast', outcome: 'ok', attempts: [], toolRuns: [] });
    }
    const turns = family(await scrape(metrics), 'vlg_turns_total', 'COUNTER');
    assert.equal(turns.metrics.length, 201);
    assert.equal(sampleValue(turns, { agent: OTHER, provider: 'fast', outcome: 'ok' }), 100);
    assert.equal(sampleValue(turns, { agent: 'agent-0', provider: 'fast', outcome: 'ok' }), 1);
  });

  it('exposes process metrics, and keeps gateways in one process apart', async () => {
    const first = new GatewayMetrics();
    const second = new GatewayMetrics();
    first.observeTurn(TURNS[0]!);
    const families = await scrape(first);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.ok(families.has(name), `missing process metric ${name}`);
    }
    assert.equal(sampleValue(family(families, 'vlg_turns_total', 'COUNTER'), { agent: 'support', provider: 'fast', outcome: 'ok' }), 1);
    const other = await scrape(second);
    assert.equal(family(other, 'vlg_turns_total', 'COUNTER').metrics.length, 0);
    assert.ok(other.has('process_cpu_user_seconds_total'));
    const bare = await scrape(new GatewayMetrics({ processMetrics: false }));
    assert.ok(!bare.has('process_cpu_user_seconds_total'));
  });
});

describe('summarizeTurn', () => {
  it('maps a TurnReport into what observeTurn takes', () => {
    const report = new TurnReport('support', 'fast', { userDataInvalid: false }, true);
    report.attempt({ provider: 'fast', model: 'm', outcome: 'committed', ms: 80 });
    report.text('Hello.');
    report.signal = 'transfer:+15551234';
    const run = (ok: boolean, error?: 'timeout'): ToolRun =>
      ({
        call: { callId: 'c', tool: { name: 'lookup_order' }, argumentsJson: '{}' },
        result: { ok, content: '', durationMs: 5, error },
      }) as unknown as ToolRun;
    report.toolRun(run(true));
    report.toolRun(run(false, 'timeout'));
    report.keyPressDropped({ reason: 'keypad_limit', keys: '12' });
    const summary = summarizeTurn(report.end(classifyTurn(FINISHED)));
    assert.deepEqual(summary.keyPressesDropped, [{ reason: 'keypad_limit', keys: '12' }]);
    assert.equal(summary.agent, 'support');
    assert.equal(summary.provider, 'fast');
    assert.equal(summary.outcome, 'ok');
    assert.deepEqual(summary.attempts, [{ provider: 'fast', outcome: 'committed' }]);
    assert.deepEqual(summary.toolRuns, [
      { name: 'lookup_order', ok: true },
      { name: 'lookup_order', ok: false, error: 'timeout' },
    ]);
    assert.equal(summary.signal, 'transfer');
    assert.equal(summary.cancellation, undefined);
    assert.ok(summary.ttftSeconds !== undefined && summary.ttftSeconds >= 0 && summary.ttftSeconds < 5);
    assert.ok(summary.overheadSeconds !== undefined && summary.overheadSeconds >= 0);

    const cut = new TurnReport('support', 'fast', { userDataInvalid: false }, true);
    cut.attempt({
      provider: 'fast',
      model: 'm',
      outcome: 'failed',
      ms: 10,
      error: new GatewayError('x', { status: 504, type: 'timeout_error', code: 'upstream_timeout' }),
    });
    cut.attempt({ provider: 'backup', model: 'm', outcome: 'committed', ms: 10 });
    const cutSummary = summarizeTurn(cut.end(classifyTurn({ how: 'stream_cut', reason: cancellation('superseded') })));
    assert.equal(cutSummary.provider, 'backup');
    assert.equal(cutSummary.cancellation, 'superseded');
    assert.equal(cutSummary.ttftSeconds, undefined);
    assert.equal(cutSummary.keyPressesDropped, undefined, 'a turn that dropped no press has none');
    assert.equal(cutSummary.overheadSeconds, undefined, 'no overhead figure for a turn that fell back');
    assert.deepEqual(cutSummary.attempts[0], { provider: 'fast', outcome: 'failed', errorCode: 'upstream_timeout' });
  });
});

describe('GET /metrics', () => {
  it('serves the Prometheus text format', async () => {
    const metrics = new GatewayMetrics();
    metrics.observeTurn(TURNS[0]!);
    const app = Fastify();
    registerMetrics(app, metrics);
    try {
      const response = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-type'], metrics.contentType);
      assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const families = parsePrometheusText(response.body);
      assert.ok(families.some((f) => f.name === 'vlg_turns_total'));
    } finally {
      await app.close();
    }
  });

  it('requires the metrics key when one is set', async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    const app = Fastify();
    registerMetrics(app, metrics, 'scrape-secret');
    try {
      for (const authorization of [undefined, 'Bearer wrong', 'Bearer scrape-secre', 'scrape-secret', 'Basic scrape-secret']) {
        const response = await app.inject({
          method: 'GET',
          url: '/metrics',
          headers: authorization === undefined ? {} : { authorization },
        });
        assert.equal(response.statusCode, 401, `authorization ${authorization}`);
        assert.match(String(response.headers['content-type']), /^application\/json/);
        const body = response.json() as { error: { type: string; code: string; message: string; param: null } };
        assert.equal(body.error.type, 'authentication_error');
        assert.equal(body.error.code, 'invalid_api_key');
        assert.equal(body.error.param, null);
        assert.ok(!body.error.message.includes('scrape-secret'));
      }
      const ok = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-secret' } });
      assert.equal(ok.statusCode, 200);
      assert.ok(parsePrometheusText(ok.body).some((f) => f.name === 'vlg_active_streams'));
    } finally {
      await app.close();
    }
  });
});
