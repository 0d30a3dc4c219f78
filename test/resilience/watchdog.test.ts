import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { providerTimeoutsSchema } from '../../src/config/schema.ts';
import type { GatewayError } from '../../src/core/gateway-error.ts';
import { Watchdog } from '../../src/resilience/watchdog.ts';
import { providerChain } from '../support/core-stages.ts';
import { drain, HANG, ScriptedTestProvider, STOP, targetOf, text, useVirtualClock, wait } from '../support/stage-kit.ts';

const TIMEOUTS = { ...providerTimeoutsSchema.parse(undefined), firstTokenMs: 1000, idleMs: 1000, totalMs: 10_000 };

function codeOf(signal: AbortSignal): string | undefined {
  return signal.aborted ? (signal.reason as GatewayError).code : undefined;
}

describe('watchdog', () => {
  it('aborts with a first-token timeout when no answer starts within the budget', async (t) => {
    const clock = useVirtualClock(t);
    const watchdog = new Watchdog('primary', TIMEOUTS, new AbortController().signal, performance.now() + 1000);
    await clock.advance(999);
    assert.equal(watchdog.signal.aborted, false);
    await clock.advance(1);
    assert.equal(codeOf(watchdog.signal), 'upstream_first_token_timeout');
    assert.equal((watchdog.signal.reason as GatewayError).status, 504);
  });

  it('counts the first-token budget from the deadline it is given (retries share it)', async (t) => {
    const clock = useVirtualClock(t);
    const watchdog = new Watchdog('primary', TIMEOUTS, new AbortController().signal, performance.now() + 300);
    await clock.advance(300);
    assert.equal(codeOf(watchdog.signal), 'upstream_first_token_timeout');
  });

  it('once committed, lets an answer run as long as no silence outlasts the idle budget', async (t) => {
    const clock = useVirtualClock(t);
    const watchdog = new Watchdog('primary', TIMEOUTS, new AbortController().signal, performance.now() + 1000);
    watchdog.committed();
    for (let part = 0; part < 5; part++) {
      await clock.advance(900);
      watchdog.activity();
    }
    assert.equal(watchdog.signal.aborted, false, '4.5 s of answer, never 1 s of silence');
    await clock.advance(1000);
    assert.equal(codeOf(watchdog.signal), 'upstream_idle_timeout');
  });

  it('ends an answer that runs past the total budget, however lively', async (t) => {
    const clock = useVirtualClock(t);
    const watchdog = new Watchdog('primary', TIMEOUTS, new AbortController().signal, performance.now() + 1000);
    watchdog.committed();
    for (let part = 0; part < 20 && !watchdog.signal.aborted; part++) {
      await clock.advance(500);
      watchdog.activity();
    }
    assert.equal(codeOf(watchdog.signal), 'upstream_total_timeout');
    assert.equal(clock.now(), 10_000);
  });

  it("carries the turn's own abort", (t) => {
    useVirtualClock(t);
    const turn = new AbortController();
    const watchdog = new Watchdog('primary', TIMEOUTS, turn.signal, performance.now() + 1000);
    turn.abort(new Error('caller left'));
    assert.equal((watchdog.signal.reason as Error).message, 'caller left');
    watchdog.dispose();
  });

  it('leaves no timer behind once disposed', async (t) => {
    const clock = useVirtualClock(t);
    const watchdog = new Watchdog('primary', TIMEOUTS, new AbortController().signal, performance.now() + 1000);
    watchdog.committed();
    watchdog.dispose();
    assert.equal(clock.pending(), 0);
    await clock.advance(20_000);
    assert.equal(watchdog.signal.aborted, false);
  });

  describe('in the provider chain', () => {
    it('keeps a slow but steady answer', async (t) => {
      const clock = useVirtualClock(t);
      const steady = new ScriptedTestProvider('primary', [[text('One, '), wait(900), text('two, '), wait(900), text('three.'), STOP]]);
      const out = await drain(providerChain([targetOf(steady, { timeouts: TIMEOUTS })]).parts, { clock });
      assert.equal(out.error, undefined);
      assert.equal(out.text, 'One, two, three.');
    });

    it('ends an answer that goes silent mid-way with an idle timeout, keeping what was said and asking no fallback', async (t) => {
      const clock = useVirtualClock(t);
      const stalling = new ScriptedTestProvider('primary', [[text('One, '), wait(900), text('two, '), HANG]]);
      const fallback = new ScriptedTestProvider('fallback', []);
      const out = await drain(providerChain([targetOf(stalling, { timeouts: TIMEOUTS }), targetOf(fallback)]).parts, { clock });
      assert.equal(out.text, 'One, two, ');
      assert.equal((out.error as GatewayError).code, 'upstream_idle_timeout');
      assert.equal(fallback.calls, 0);
    });

    it('gives up on a provider whose first word never comes', async (t) => {
      const clock = useVirtualClock(t);
      const silent = new ScriptedTestProvider('primary', [[wait(1500), text('Too late.'), STOP]]);
      const out = await drain(providerChain([targetOf(silent, { timeouts: TIMEOUTS })]).parts, { clock });
      assert.equal((out.error as GatewayError).code, 'upstream_first_token_timeout');
      assert.equal(out.text, '');
    });
  });
});
