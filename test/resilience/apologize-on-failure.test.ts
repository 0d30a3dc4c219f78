import { cancellationKind } from '../../src/calls/cancellation.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { apologyStage } from '../support/core-stages.ts';
import { cancellation, connectionRefused, fail, httpFailure, runStage, STOP, streamBroken, text, usage } from '../support/stage-kit.ts';

const APOLOGY = 'Sorry, please say that again.';

describe('apology on failure', () => {
  it('answers a turn that failed before any words with the apology, as a well-formed answer', async () => {
    const { stage, ledger } = apologyStage();
    const out = await runStage(stage, [fail(httpFailure(503))]);
    assert.equal(out.error, undefined);
    assert.deepEqual(out.parts, [text(APOLOGY), STOP]);
    assert.equal(ledger.apologies.length, 1);
    assert.equal((ledger.apologies[0] as GatewayError).code, 'upstream_error');
    assert.equal(ledger.failures, 1);
  });

  it('says the configured apology over the default one', async () => {
    const { stage } = apologyStage({ message: 'Our line is busy, one moment.' });
    const out = await runStage(stage, [fail(connectionRefused())]);
    assert.equal(out.text, 'Our line is busy, one moment.');
  });

  it('ends cleanly, without an apology, when the failure comes after words were said', async () => {
    const { stage, ledger } = apologyStage();
    const out = await runStage(stage, [text('Your balance is '), fail(streamBroken())]);
    assert.equal(out.text, 'Your balance is ');
    assert.equal((out.error as GatewayError).code, 'upstream_stream_broken', 'the writer ends the stream cleanly on it');
    assert.deepEqual(ledger.apologies, []);
  });

  it('counts a tool call as words said', async () => {
    const { stage, ledger } = apologyStage();
    const out = await runStage(stage, [{ type: 'tool-call-start', callId: 'c1', name: 'lookup' }, fail(streamBroken())]);
    assert.ok(out.error instanceof GatewayError);
    assert.deepEqual(ledger.apologies, []);
  });

  it('does not apologise for a cancelled turn', async () => {
    const turn = cancellation();
    const { stage, ledger } = apologyStage({}, { signal: turn.signal });
    turn.callerSpokeAgain();
    const out = await runStage(stage, [fail(turn.signal.reason)]);
    assert.equal(cancellationKind(out.error), 'superseded', 'the turn ends with its cancellation, not a wire error');
    assert.deepEqual(out.parts, []);
    assert.deepEqual(ledger.apologies, []);
    assert.equal(ledger.failures, 0);
  });

  it('passes the error on in mode `error` (clients that want the HTTP error)', async () => {
    const { stage, ledger } = apologyStage({ mode: 'error' });
    const out = await runStage(stage, [fail(httpFailure(503))]);
    assert.equal((out.error as GatewayError).code, 'upstream_error');
    assert.deepEqual(out.parts, []);
    assert.deepEqual(ledger.apologies, []);
  });

  it('ends the call after too many failed turns in a row', async () => {
    const { stage } = apologyStage({ hangupAfterFailures: 2 }, { failuresBefore: 1 });
    const out = await runStage(stage, [fail(httpFailure(500))]);
    assert.deepEqual(out.types, ['text', 'end-call', 'finish']);
  });

  it('keeps the call going below the limit, and a good turn resets the count', async () => {
    const { stage, ledger } = apologyStage({ hangupAfterFailures: 3 }, { failuresBefore: 1 });
    const failed = await runStage(stage, [fail(httpFailure(500))]);
    assert.deepEqual(failed.types, ['text', 'finish']);
    assert.equal(ledger.failures, 2);
    const good = await runStage(stage, [text('Hi.'), usage(3, 1), STOP]);
    assert.deepEqual(good.types, ['text', 'usage', 'finish']);
    assert.equal(ledger.failures, 0);
  });
});
