import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ToolRun } from '../../src/agent/converse.ts';
import { gatewayError } from '../../src/core/error-catalog.ts';
import { createLogger, REDACTED_PATHS, turnLineLogger } from '../../src/telemetry/logger.ts';
import type { TurnOutcome } from '../../src/telemetry/turn-outcome.ts';
import { type FinishedTurn, TurnReport, turnLogFields } from '../../src/telemetry/turn-report.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../support/gateway-harness.ts';

/**
 * The turn line skips pino's redaction (it costs ten times the rest of the line): this shows
 * that nothing it could redact can ever be in that line.
 */

/** The key names the redaction looks for, at any depth. */
const REDACTED_NAMES = new Set(REDACTED_PATHS.flatMap((path) => path.split('.')).filter((name) => name !== '*' && name !== 'req'));

/** A turn with every field of its line filled in: attempts, tools, model commands, dropped key presses, provider failures. */
function everyFieldTurn(): FinishedTurn {
  const call = { instanceId: 'inst-1', channelId: 'ch-1', sentenceId: 4, callerNumber: '13800000001', userDataInvalid: false };
  const report = new TurnReport('support', 'qwen', call, true);
  report.id = 'chatcmpl-1';
  report.platform = 'ims';
  report.retry = true;
  report.synthetic = 'check';
  report.finishReason = 'stop';
  report.callerText = `my key is ${TEST_KEY}`;
  report.text('Hello.');
  const failure = gatewayError('upstream_error', { provider: 'qwen', httpStatus: 502, detail: 'bad gateway' });
  report.attempt({ provider: 'qwen', model: 'm', outcome: 'failed', error: failure, ms: 3 });
  report.attempt({ provider: 'backup', model: 'm2', outcome: 'committed', ms: 5 });
  report.toolRun({ call: { tool: { name: 'lookup' } }, result: { ok: false, error: 'timeout', durationMs: 7 } } as unknown as ToolRun);
  report.modelCommand({ command: 'hangup', action: 'removed' });
  report.keyPressDropped({ reason: 'no_keypad', keys: '1' });
  report.keyPressDropped({ reason: 'invalid_keys', keys: 'sales' });
  const outcome: TurnOutcome = {
    status: 'apologized',
    httpStatus: 200,
    errorCode: 'upstream_error',
    errorMessage: 'every provider failed',
    cancellation: undefined,
    failures: [{ provider: 'qwen', model: 'm', code: 'upstream_error', status: 502, message: 'bad gateway' }],
  };
  return report.end(outcome);
}

function keyNames(value: unknown, out: Set<string>): Set<string> {
  if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (!Array.isArray(value)) out.add(key);
      keyNames(inner, out);
    }
  }
  return out;
}

describe('the turn line', () => {
  it('has no field the redaction would touch, at any depth', () => {
    const fields = turnLogFields(everyFieldTurn());
    const names = keyNames(fields, new Set());
    assert.ok(names.has('providerFailures') && names.has('attempts') && names.has('tools'), 'every field is there');
    assert.equal(fields.keyPressesDropped, 'no_keypad invalid_keys', 'the reasons only: the keys are on the warning line');
    for (const name of names) assert.ok(!REDACTED_NAMES.has(name), `${name} is a redacted name`);
  });

  it('is written exactly as the redacting logger writes it', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
    const fields = turnLogFields(everyFieldTurn());
    logger.warn(fields, 'turn');
    turnLineLogger(logger).warn(fields, 'turn');
    const [redacted, fast] = lines.map((line) => ({ ...JSON.parse(line), time: 0 }));
    assert.deepEqual(fast, redacted);
    assert.ok(!lines.join('').includes(TEST_KEY), 'the caller text is not in the line');
  });

  it('follows its logger: its level, and its bindings', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => lines.push(line) } }).child({ replica: 'r1' });
    turnLineLogger(logger).info({ a: 1 }, 'turn');
    assert.equal(lines.length, 0);
    logger.level = 'info';
    turnLineLogger(logger).info({ a: 1 }, 'turn');
    assert.equal(JSON.parse(lines[0]!).replica, 'r1');
    assert.equal(turnLineLogger(logger), turnLineLogger(logger), 'one per logger, not one per turn');
  });
});

describe('the turn line of a real request', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({
      providers: { script: { type: 'scripted', fallback: 'ok {{heard}}' } },
      agents: { alpha: { provider: 'script' } },
    });
  });
  after(async () => gateway?.close());

  it('never carries the API key or the Authorization header', async () => {
    const response = await gateway.post('/v1/chat/completions', {
      model: 'alpha',
      stream: true,
      messages: [{ role: 'user', content: 'hello' }],
      extendData: { instanceId: 'call-key-test', sentenceId: 1 },
    });
    await response.text();
    const turnLine = gateway.logs.find((line) => line.msg === 'turn' && line.instanceId === 'call-key-test');
    assert.ok(turnLine, 'the turn was logged');
    const text = JSON.stringify(turnLine);
    assert.ok(!text.includes(TEST_KEY));
    assert.ok(!/bearer|authorization/i.test(text));
    assert.ok(!gateway.logText().includes(TEST_KEY), 'nor any other line');
  });
});
