import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ToolRun } from '../../src/agent/converse.ts';
import { cancellation } from '../../src/calls/cancellation.ts';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { classifyTurn, FINISHED } from '../../src/telemetry/turn-outcome.ts';
import { TurnReport, turnLogFields } from '../../src/telemetry/turn-report.ts';

const call = { instanceId: 'call-1', channelId: 'ch-1', sentenceId: 3, userDataInvalid: false };
const upstreamDown = new GatewayError('upstream answered 503', { status: 502, type: 'upstream_error', code: 'upstream_error' });
const toolRun = (durationMs: number): ToolRun =>
  ({
    call: { callId: 'c', tool: { name: 'lookup_order' }, argumentsJson: '{}' },
    result: { ok: true, content: '', durationMs },
  }) as unknown as ToolRun;

function runningTurn(): TurnReport {
  const report = new TurnReport('support', 'fast', call, true);
  report.id = 'chatcmpl-1';
  report.platform = 'ims';
  report.callerText = 'where is my parcel';
  report.attempt({ provider: 'backup', model: 'm', outcome: 'committed', ms: 40 });
  report.toolRun(toolRun(5));
  report.text('It arrives ');
  report.text('tomorrow.');
  report.signal = 'hangup';
  report.finishReason = 'stop';
  return report;
}

describe('TurnReport', () => {
  it('ends once: the finished turn carries the outcome and everything measured', () => {
    const report = runningTurn();
    assert.equal(report.finished, undefined, 'a running turn has no finished form');
    const outcome = classifyTurn(FINISHED);
    const endedAt = report.startedAt + 250;
    const finished = report.end(outcome, endedAt);
    assert.equal(report.finished, finished);
    assert.ok(Object.isFrozen(finished));
    assert.equal(finished.outcome, outcome);
    assert.equal(finished.endedAt, endedAt);
    assert.equal(finished.id, 'chatcmpl-1');
    assert.equal(finished.agent, 'support');
    assert.equal(finished.provider, 'backup', 'the provider that committed');
    assert.equal(finished.platform, 'ims');
    assert.equal(finished.stream, true);
    assert.equal(finished.call, call);
    assert.equal(finished.callerText, 'where is my parcel');
    assert.equal(finished.answer, 'It arrives tomorrow.');
    assert.equal(finished.charsOut, 'It arrives tomorrow.'.length);
    assert.equal(finished.signal, 'hangup');
    assert.equal(finished.finishReason, 'stop');
    assert.equal(finished.attempts.length, 1);
    assert.equal(finished.attemptEndedAt.length, 1);
    assert.equal(finished.toolRuns.length, 1);
    assert.equal(finished.toolRunEndedAt.length, 1);
    assert.ok(finished.firstTextAt !== undefined && finished.firstSentenceAt !== undefined);
    // performance.now() values are fractional: the subtraction is exact only to a rounding error.
    assert.ok(Math.abs(finished.overheadMs - (250 - 5)) < 1e-6, 'the turn minus its tool time (no upstream wait reported)');
  });

  it('refuses a second end, keeping the first outcome', () => {
    const report = runningTurn();
    const first = report.end(classifyTurn(FINISHED));
    assert.throws(() => report.end(classifyTurn({ how: 'failed', error: upstreamDown })), /ended twice/);
    assert.equal(report.finished, first);
    assert.equal(report.finished?.outcome.status, 'ok');
  });

  it('takes no more attempts, tool runs, model commands, dropped key presses or apology once ended', () => {
    const report = runningTurn();
    const finished = report.end(classifyTurn({ how: 'stream_cut', reason: cancellation('superseded') }));
    report.attempt({ provider: 'fast', model: 'm', outcome: 'committed', ms: 1 });
    report.toolRun(toolRun(1));
    report.modelCommand({ command: 'hangup', action: 'honoured' });
    report.keyPressDropped({ reason: 'no_keypad', keys: '1' });
    report.apologized(upstreamDown);
    assert.equal(finished.attempts.length, 1);
    assert.equal(finished.keyPressesDropped.length, 0);
    assert.equal(finished.toolRuns.length, 1);
    assert.equal(finished.modelCommands.length, 0);
    assert.equal(finished.provider, 'backup');
    assert.equal(finished.outcome.status, 'superseded');
    assert.equal(report.apology, undefined);
  });

  it('remembers the apology for the outcome, which classifyTurn reads', () => {
    const report = runningTurn();
    report.apologized(upstreamDown);
    const finished = report.end(classifyTurn(FINISHED, report.apology));
    assert.equal(finished.outcome.status, 'apologized');
    assert.equal(finished.outcome.errorCode, 'upstream_error');
  });

  it('gives the log line its outcome and duration from the finished turn', () => {
    const report = runningTurn();
    const finished = report.end(classifyTurn({ how: 'broken', error: upstreamDown }), report.startedAt + 1234.56);
    const fields = turnLogFields(finished);
    assert.equal(fields.status, 'upstream_broken');
    assert.equal(fields.httpStatus, 200);
    assert.equal(fields.errorCode, 'upstream_error');
    assert.equal(fields.error, 'upstream answered 503');
    assert.equal(fields.durationMs, 1234.6);
    assert.equal(fields.turnId, 'chatcmpl-1');
    assert.equal(fields.attempts, undefined, 'one committed attempt is not listed');
    assert.equal(fields.tools, 'lookup_order:ok');
    assert.equal(fields.providerFailures, undefined, 'a broken answer is not a failure of every provider');
  });

  it("logs each provider's failure when every provider failed", () => {
    const failures = [
      { provider: 'primary', model: 'big', code: 'upstream_error', status: 502, message: 'primary answered 503' },
      { provider: 'backup', model: 'small', code: 'upstream_timeout', status: 504, message: 'backup sent no first token' },
    ];
    const lastError = new GatewayError('backup sent no first token', { status: 504, type: 'timeout_error', code: 'upstream_timeout' });
    const apologized = runningTurn().end(classifyTurn(FINISHED, lastError.withFailures(failures)));
    assert.equal(apologized.outcome.status, 'apologized');
    assert.deepEqual(turnLogFields(apologized).providerFailures, failures);
    const refused = runningTurn().end(classifyTurn({ how: 'failed', error: lastError.withFailures(failures) }));
    assert.deepEqual(turnLogFields(refused).providerFailures, failures);
  });
});
