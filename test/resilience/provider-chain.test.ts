import { cancellationKind } from '../../src/calls/cancellation.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { providerChain } from '../support/core-stages.ts';
import {
  cancellation,
  connectionRefused,
  drain,
  fail,
  HANG,
  httpFailure,
  ScriptedTestProvider,
  STOP,
  streamBroken,
  targetOf,
  text,
  useVirtualClock,
  wait,
} from '../support/stage-kit.ts';

const answer = (words: string) => [text(words), STOP];

function outcomes(attempts: { provider: string; outcome: string }[]): string[] {
  return attempts.map((attempt) => `${attempt.provider}:${attempt.outcome}`);
}

describe('provider chain', () => {
  it('streams the first target when it answers, and never asks the fallback', async () => {
    const primary = new ScriptedTestProvider('primary', [answer('Hello there.')]);
    const fallback = new ScriptedTestProvider('fallback', []);
    const chain = providerChain([targetOf(primary, { model: 'big' }), targetOf(fallback)]);
    const out = await drain(chain.parts);
    assert.equal(out.error, undefined);
    assert.equal(out.text, 'Hello there.');
    assert.deepEqual(out.types, ['text', 'finish']);
    assert.equal(fallback.calls, 0);
    assert.equal(primary.requests[0]!.model, 'big');
    assert.deepEqual(outcomes(chain.attempts), ['primary:committed']);
  });

  it('retries a retryable failure before the first words on the same target', async () => {
    const primary = new ScriptedTestProvider('primary', [[fail(httpFailure(503))], [fail(connectionRefused())], answer('Third time.')]);
    const chain = providerChain([targetOf(primary)]);
    const out = await drain(chain.parts);
    assert.equal(out.text, 'Third time.');
    assert.equal(primary.calls, 3);
    assert.deepEqual(outcomes(chain.attempts), ['primary:retried', 'primary:retried', 'primary:committed']);
  });

  it('falls back to the next target once the retries are spent', async () => {
    const primary = new ScriptedTestProvider('primary', [[fail(httpFailure(500))], [fail(httpFailure(502))]]);
    const fallback = new ScriptedTestProvider('fallback', [answer('From the fallback.')]);
    const chain = providerChain([targetOf(primary, { retry: { maxRetries: 1 } }), targetOf(fallback, { params: { temperature: 0 } })]);
    const out = await drain(chain.parts);
    assert.equal(out.text, 'From the fallback.');
    assert.deepEqual(outcomes(chain.attempts), ['primary:retried', 'primary:failed', 'fallback:committed']);
    assert.equal(fallback.requests[0]!.params.temperature, 0, "the fallback's own parameters are sent to it");
  });

  it('does not retry a failure that is not retryable, but still falls back', async () => {
    const primary = new ScriptedTestProvider('primary', [[fail(httpFailure(401))]]);
    const fallback = new ScriptedTestProvider('fallback', [answer('OK.')]);
    const chain = providerChain([targetOf(primary), targetOf(fallback)]);
    const out = await drain(chain.parts);
    assert.equal(out.text, 'OK.');
    assert.equal(primary.calls, 1);
    assert.deepEqual(outcomes(chain.attempts), ['primary:failed', 'fallback:committed']);
  });

  it('commits on the first words: a later failure ends the stream, no retry, no fallback', async () => {
    const primary = new ScriptedTestProvider('primary', [[text('Let me '), text('check'), fail(streamBroken())]]);
    const fallback = new ScriptedTestProvider('fallback', [answer('Never heard.')]);
    const chain = providerChain([targetOf(primary), targetOf(fallback)]);
    const out = await drain(chain.parts);
    assert.equal(out.text, 'Let me check');
    assert.ok(out.error instanceof GatewayError);
    assert.equal(out.error.code, 'upstream_stream_broken');
    assert.equal(primary.calls, 1);
    assert.equal(fallback.calls, 0);
    assert.deepEqual(outcomes(chain.attempts), ['primary:committed']);
  });

  it('holds parts nobody hears until the first words, then sends them in order', async () => {
    const primary = new ScriptedTestProvider('primary', [
      [{ type: 'reasoning', text: 'thinking' }, fail(httpFailure(503))],
      [{ type: 'reasoning', text: 'again' }, text('Hi.'), STOP],
    ]);
    const out = await drain(providerChain([targetOf(primary)]).parts);
    assert.deepEqual(out.parts, [{ type: 'reasoning', text: 'again' }, text('Hi.'), STOP], 'the failed attempt leaves nothing behind');
  });

  for (const status of [400, 413, 422]) {
    it(`answers a client fault (upstream ${status}) at once: no retry, no fallback, no count against the provider`, async () => {
      const primary = new ScriptedTestProvider('primary', [
        [fail(httpFailure(status, { body: '{"error":{"message":"bad max_tokens"}}' }))],
      ]);
      const fallback = new ScriptedTestProvider('fallback', [answer('Never heard.')]);
      const first = targetOf(primary, { circuitBreaker: { failureThreshold: 1 } });
      const chain = providerChain([first, targetOf(fallback)]);
      const out = await drain(chain.parts);
      assert.ok(out.error instanceof GatewayError);
      assert.equal(out.error.status, status === 413 ? 413 : 400);
      assert.equal(out.error.type, 'invalid_request_error');
      assert.equal(primary.calls, 1);
      assert.equal(fallback.calls, 0);
      assert.equal(first.breaker.state, 'closed', 'one refused request does not open a circuit whose threshold is 1');
    });
  }

  it('skips a target whose circuit is open, and asks it again once the cooldown is over', async (t) => {
    const clock = useVirtualClock(t);
    const primary = new ScriptedTestProvider('primary', [[fail(httpFailure(500))], answer('Back again.')]);
    const fallback = new ScriptedTestProvider('fallback', [answer('One.'), answer('Two.')]);
    const first = targetOf(primary, { retry: { maxRetries: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 30_000 } });
    const targets = [first, targetOf(fallback)];

    const failing = providerChain(targets);
    assert.equal((await drain(failing.parts, { clock })).text, 'One.');
    assert.equal(first.breaker.state, 'open');

    const skipping = providerChain(targets);
    assert.equal((await drain(skipping.parts, { clock })).text, 'Two.');
    assert.deepEqual(outcomes(skipping.attempts), ['primary:skipped', 'fallback:committed']);
    assert.equal(skipping.attempts[0]!.error?.code, 'circuit_open');
    assert.equal(primary.calls, 1, 'an open circuit is not asked');

    await clock.advance(30_000);
    const probing = providerChain(targets);
    assert.equal((await drain(probing.parts, { clock })).text, 'Back again.');
    assert.equal(first.breaker.state, 'closed', 'a probe that answers closes the circuit');
  });

  it('counts a committed stream that breaks against its provider', async () => {
    const primary = new ScriptedTestProvider('primary', [[text('Hel'), fail(streamBroken())]]);
    const first = targetOf(primary, { circuitBreaker: { failureThreshold: 1 } });
    await drain(providerChain([first]).parts);
    assert.equal(first.breaker.state, 'open');
  });

  it("throws the last target's error when every target fails", async () => {
    const primary = new ScriptedTestProvider('primary', [[fail(httpFailure(404))]]);
    const fallback = new ScriptedTestProvider('fallback', [[fail(httpFailure(401))]]);
    const out = await drain(providerChain([targetOf(primary), targetOf(fallback)]).parts);
    assert.ok(out.error instanceof GatewayError);
    assert.equal(out.error.code, 'upstream_auth_failed');
    assert.deepEqual(out.parts, []);
  });

  it('says the circuit is open (503, Retry-After) when every target is skipped', async () => {
    const primary = new ScriptedTestProvider('primary', []);
    const only = targetOf(primary, { circuitBreaker: { failureThreshold: 1, cooldownMs: 20_000 } });
    only.breaker.recordFailure();
    const out = await drain(providerChain([only]).parts);
    assert.ok(out.error instanceof GatewayError);
    assert.equal(out.error.code, 'circuit_open');
    assert.equal(out.error.status, 503);
    assert.ok(out.error.retryAfterSeconds! >= 1);
    assert.equal(primary.calls, 0);
  });

  it('moves on instead of waiting out a Retry-After longer than the first-token budget', async () => {
    const primary = new ScriptedTestProvider('primary', [[fail(httpFailure(429, { retryAfter: '30' }))]]);
    const fallback = new ScriptedTestProvider('fallback', [answer('Fallback.')]);
    const first = targetOf(primary, { timeouts: { firstTokenMs: 5000 }, circuitBreaker: { failureThreshold: 1 } });
    const chain = providerChain([first, targetOf(fallback)]);
    assert.equal((await drain(chain.parts)).text, 'Fallback.');
    assert.deepEqual(outcomes(chain.attempts), ['primary:failed', 'fallback:committed']);
    assert.equal(first.breaker.state, 'closed', 'a rate limit never opens the circuit');
  });

  it('falls back when the first target sends no first word within its budget', async (t) => {
    const clock = useVirtualClock(t);
    const primary = new ScriptedTestProvider('primary', [[HANG]]);
    const fallback = new ScriptedTestProvider('fallback', [answer('Quick.')]);
    const chain = providerChain([targetOf(primary, { timeouts: { firstTokenMs: 2000 } }), targetOf(fallback)]);
    const out = await drain(chain.parts, { clock });
    assert.equal(out.text, 'Quick.');
    assert.equal(chain.attempts[0]!.error?.code, 'upstream_first_token_timeout');
    assert.equal(clock.now(), 2000);
  });

  it("stops at once with the turn's reason when the caller speaks again, counting nothing against the provider", async (t) => {
    const clock = useVirtualClock(t);
    const turn = cancellation();
    const primary = new ScriptedTestProvider('primary', [[text('Well, '), wait(1000), text('as I said'), STOP]]);
    const first = targetOf(primary, { circuitBreaker: { failureThreshold: 1 } });
    const reading = drain(providerChain([first], { signal: turn.signal }).parts);
    await clock.advance(500);
    turn.callerSpokeAgain();
    const out = await reading;
    assert.equal(out.text, 'Well, ');
    assert.equal(cancellationKind(out.error), 'superseded', 'the turn ends with its cancellation, not a wire error');
    assert.equal(first.breaker.state, 'closed');
  });

  it('closes the upstream stream when its consumer stops reading', async () => {
    const primary = new ScriptedTestProvider('primary', [[text('One. '), text('Two. '), text('Three.'), STOP]]);
    const out = await drain(providerChain([targetOf(primary)]).parts, { take: 1 });
    assert.equal(out.text, 'One. ');
    assert.equal(primary.closedEarly, 1);
  });
});
