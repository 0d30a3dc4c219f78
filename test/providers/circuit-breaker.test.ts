import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, PROBE_PENDING_RETRY_MS } from '../../src/providers/circuit-breaker.ts';

const COOLDOWN = 30_000;

function setup(failureThreshold = 3, cooldownMs = COOLDOWN) {
  let t = 5_000;
  const breaker = new CircuitBreaker({ failureThreshold, cooldownMs }, { now: () => t });
  return {
    breaker,
    advance(ms: number) {
      t += ms;
    },
    /** Fails enough consecutive requests to open the circuit. */
    trip() {
      for (let i = 0; i < failureThreshold; i++) {
        assert.equal(breaker.tryAcquire(), true);
        breaker.recordFailure();
      }
      assert.equal(breaker.state, 'open');
    },
  };
}

describe('CircuitBreaker: closed', () => {
  it('starts closed and lets every request through', () => {
    const { breaker } = setup();
    assert.equal(breaker.state, 'closed');
    for (let i = 0; i < 100; i++) assert.equal(breaker.tryAcquire(), true);
    assert.equal(breaker.retryInMs(), 0);
  });

  it('opens after exactly failureThreshold consecutive failures', () => {
    const { breaker } = setup(3);
    breaker.recordFailure();
    breaker.recordFailure();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.consecutiveFailures, 2);
    assert.equal(breaker.tryAcquire(), true);
    breaker.recordFailure();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.tryAcquire(), false);
    assert.equal(breaker.retryInMs(), COOLDOWN);
  });

  it('counts consecutive failures only: a success starts the count again', () => {
    const { breaker } = setup(3);
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess();
    assert.equal(breaker.consecutiveFailures, 0);
    breaker.recordFailure();
    breaker.recordFailure();
    assert.equal(breaker.state, 'closed');
    breaker.recordFailure();
    assert.equal(breaker.state, 'open');
  });

  it('opens on the first failure with a threshold of 1', () => {
    const { breaker } = setup(1);
    breaker.recordFailure();
    assert.equal(breaker.state, 'open');
  });

  it('rejects invalid configuration', () => {
    assert.throws(() => new CircuitBreaker({ failureThreshold: 0, cooldownMs: 1 }), RangeError);
    assert.throws(() => new CircuitBreaker({ failureThreshold: 1, cooldownMs: -1 }), RangeError);
  });
});

describe('CircuitBreaker: open', () => {
  it('refuses until the cooldown has elapsed, then turns half-open exactly at it', () => {
    const { breaker, advance, trip } = setup();
    trip();
    advance(COOLDOWN - 1);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.tryAcquire(), false);
    assert.equal(breaker.retryInMs(), 1);
    advance(1);
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.retryInMs(), 0);
  });

  it('ignores verdicts of stragglers that started before it opened', () => {
    const { breaker, advance, trip } = setup();
    trip();
    advance(10_000);
    breaker.recordSuccess();
    assert.equal(breaker.state, 'open', 'a late success does not close it');
    breaker.recordFailure();
    assert.equal(breaker.retryInMs(), COOLDOWN - 10_000, 'a late failure does not extend the cooldown');
    breaker.release();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.tryAcquire(), false);
  });
});

describe('CircuitBreaker: half-open', () => {
  it('lets exactly one probe through until it reports', () => {
    const { breaker, advance, trip } = setup();
    trip();
    advance(COOLDOWN);
    assert.equal(breaker.tryAcquire(), true);
    for (let i = 0; i < 10; i++) assert.equal(breaker.tryAcquire(), false);
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.retryInMs(), PROBE_PENDING_RETRY_MS);
    advance(10 * COOLDOWN);
    assert.equal(breaker.tryAcquire(), false, 'waiting longer does not free the probe slot');
  });

  it('closes when the probe succeeds', () => {
    const { breaker, advance, trip } = setup(3);
    trip();
    advance(COOLDOWN);
    assert.equal(breaker.tryAcquire(), true);
    breaker.recordSuccess();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.retryInMs(), 0);
    for (let i = 0; i < 10; i++) assert.equal(breaker.tryAcquire(), true);
    breaker.recordFailure();
    breaker.recordFailure();
    assert.equal(breaker.state, 'closed', 'the failure count started again');
    breaker.recordFailure();
    assert.equal(breaker.state, 'open');
  });

  it('reopens for a full cooldown from the moment the probe fails', () => {
    const { breaker, advance, trip } = setup();
    trip();
    advance(COOLDOWN);
    assert.equal(breaker.tryAcquire(), true);
    advance(500);
    breaker.recordFailure();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.tryAcquire(), false);
    assert.equal(breaker.retryInMs(), COOLDOWN);
    advance(COOLDOWN - 1);
    assert.equal(breaker.tryAcquire(), false);
    advance(1);
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.tryAcquire(), true, 'a new probe');
    assert.equal(breaker.tryAcquire(), false);
  });

  it('release() returns the probe slot without a verdict', () => {
    const { breaker, advance, trip } = setup();
    trip();
    advance(COOLDOWN);
    assert.equal(breaker.tryAcquire(), true);
    breaker.release();
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.retryInMs(), 0);
    assert.equal(breaker.tryAcquire(), true, 'the next caller probes');
    assert.equal(breaker.tryAcquire(), false, 'still one probe at a time');
    breaker.recordFailure();
    assert.equal(breaker.state, 'open');
  });

  it('release() while closed changes nothing', () => {
    const { breaker } = setup(2);
    assert.equal(breaker.tryAcquire(), true);
    breaker.recordFailure();
    breaker.release();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.consecutiveFailures, 1);
    breaker.recordFailure();
    assert.equal(breaker.state, 'open');
  });
});
