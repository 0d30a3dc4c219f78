import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { AdmissionControl, type AdmissionLimits, type AdmissionTicket } from '../../src/calls/admission.ts';
import { parseConfig } from '../../src/config/load-config.ts';

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}

function control(limits: Partial<AdmissionLimits>, clock = fakeClock()): AdmissionControl {
  return new AdmissionControl(
    { maxConcurrentStreams: 1000, maxConcurrentStreamsPerKey: 1000, requestsPerMinutePerKey: 0, ...limits },
    { now: clock.now },
  );
}

/** Asserts that admit() throws the expected 429 and returns the error. */
function refused(ac: AdmissionControl, key: string, code: string): GatewayError {
  let caught: unknown;
  try {
    ac.admit(key);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof GatewayError, `expected a GatewayError, got ${String(caught)}`);
  assert.equal(caught.status, 429);
  assert.equal(caught.type, 'rate_limit_error');
  assert.equal(caught.code, code);
  return caught;
}

describe('AdmissionControl: concurrency', () => {
  it('admits exactly maxConcurrentStreams streams across keys, then refuses with Retry-After 1', () => {
    const ac = control({ maxConcurrentStreams: 3 });
    const tickets = [ac.admit('a'), ac.admit('b'), ac.admit('c')];
    assert.equal(ac.inFlight(), 3);
    const error = refused(ac, 'd', 'too_many_concurrent_streams');
    assert.equal(error.retryAfterSeconds, 1);
    assert.match(error.message, /concurrent streams/i);
    assert.equal(ac.inFlight(), 3, 'a refused request takes no slot');
    tickets[1]!.release();
    ac.admit('d');
    assert.equal(ac.inFlight(), 3);
  });

  it('admits exactly maxConcurrentStreamsPerKey per key, and other keys are unaffected', () => {
    const ac = control({ maxConcurrentStreams: 10, maxConcurrentStreamsPerKey: 2 });
    const first = ac.admit('a');
    ac.admit('a');
    const error = refused(ac, 'a', 'too_many_concurrent_streams_for_key');
    assert.equal(error.retryAfterSeconds, 1);
    assert.equal(ac.inFlightFor('a'), 2);
    ac.admit('b');
    ac.admit('b');
    assert.equal(ac.inFlightFor('b'), 2);
    assert.equal(ac.inFlight(), 4);
    first.release();
    assert.equal(ac.inFlightFor('a'), 1);
    ac.admit('a');
    assert.equal(ac.inFlightFor('a'), 2);
  });

  it('release() is idempotent: a second call frees nothing', () => {
    const ac = control({ maxConcurrentStreams: 10, maxConcurrentStreamsPerKey: 2 });
    const first = ac.admit('a');
    ac.admit('a');
    assert.equal(first.released, false);
    first.release();
    first.release();
    assert.equal(first.released, true);
    assert.equal(ac.inFlightFor('a'), 1);
    assert.equal(ac.inFlight(), 1);
    ac.admit('a');
    refused(ac, 'a', 'too_many_concurrent_streams_for_key');
  });

  it('reports inFlight() and inFlightFor() per key', () => {
    const ac = control({});
    assert.equal(ac.inFlight(), 0);
    assert.equal(ac.inFlightFor('a'), 0);
    const tickets: AdmissionTicket[] = [ac.admit('a'), ac.admit('a'), ac.admit('b')];
    assert.equal(ac.inFlight(), 3);
    assert.equal(ac.inFlightFor('a'), 2);
    assert.equal(ac.inFlightFor('b'), 1);
    assert.equal(ac.inFlightFor('c'), 0);
    for (const ticket of tickets) ticket.release();
    assert.equal(ac.inFlight(), 0);
    assert.equal(ac.inFlightFor('a'), 0);
  });

  it('never puts the API key in an error message', () => {
    const key = 'sk-very-secret-key-123';
    const perKey = control({ maxConcurrentStreamsPerKey: 1 });
    perKey.admit(key);
    const global = control({ maxConcurrentStreams: 1 });
    global.admit('other');
    const rpm = control({ requestsPerMinutePerKey: 1 });
    rpm.admit(key).release();
    const errors = [
      refused(perKey, key, 'too_many_concurrent_streams_for_key'),
      refused(global, key, 'too_many_concurrent_streams'),
      refused(rpm, key, 'rate_limit_exceeded'),
    ];
    for (const error of errors) {
      assert.ok(!error.message.includes(key), error.message);
      assert.ok(!JSON.stringify(error.toBody()).includes(key));
      assert.ok(!error.message.includes('sk-'), error.message);
    }
  });

  it('with the default limits lets one key take every slot, then names the gateway full, not the key', () => {
    const limits = parseConfig({ providers: { s: { type: 'scripted' } }, agents: { a: { provider: 's' } } }, {}, 'defaults').server.limits;
    const ac = new AdmissionControl(limits);
    for (let i = 0; i < 2000; i++) ac.admit('key-1');
    assert.equal(ac.full, true);
    refused(ac, 'key-1', 'too_many_concurrent_streams');
    refused(ac, 'key-2', 'too_many_concurrent_streams');
  });

  it('rejects invalid limits', () => {
    assert.throws(() => control({ maxConcurrentStreams: 0 }), RangeError);
    assert.throws(() => control({ maxConcurrentStreamsPerKey: 1.5 }), RangeError);
    assert.throws(() => control({ requestsPerMinutePerKey: -1 }), RangeError);
  });
});

describe('AdmissionControl: requests per minute', () => {
  it('admits exactly the limit at once, then one more each 60 s / limit', () => {
    const clock = fakeClock();
    const ac = control({ requestsPerMinutePerKey: 3 }, clock);
    for (let i = 0; i < 3; i++) ac.admit('a').release();
    const error = refused(ac, 'a', 'rate_limit_exceeded');
    assert.equal(error.retryAfterSeconds, 20);
    assert.match(error.message, /3 requests per minute/);

    clock.advance(19_999);
    assert.equal(refused(ac, 'a', 'rate_limit_exceeded').retryAfterSeconds, 1);
    clock.advance(1); // exactly 20 s: one slot has freed
    ac.admit('a').release();
    assert.equal(refused(ac, 'a', 'rate_limit_exceeded').retryAfterSeconds, 20);

    clock.advance(10_700);
    assert.equal(refused(ac, 'a', 'rate_limit_exceeded').retryAfterSeconds, 10, '9.3 s rounds up');
  });

  it('never banks more than the limit, however long a key was quiet', () => {
    const clock = fakeClock();
    const ac = control({ requestsPerMinutePerKey: 3 }, clock);
    ac.admit('a').release();
    clock.advance(50_000); // quiet, yet not long enough to be forgotten
    for (let i = 0; i < 3; i++) ac.admit('a').release();
    refused(ac, 'a', 'rate_limit_exceeded');
  });

  it('counts requests, not concurrency: the limit holds even if every stream ended', () => {
    const clock = fakeClock();
    const ac = control({ requestsPerMinutePerKey: 2 }, clock);
    ac.admit('a').release();
    ac.admit('a').release();
    assert.equal(ac.inFlight(), 0);
    refused(ac, 'a', 'rate_limit_exceeded');
  });

  it('is exact at the boundary when 60 s does not divide evenly (7 per minute)', () => {
    const clock = fakeClock(123.25);
    const ac = control({ requestsPerMinutePerKey: 7 }, clock);
    for (let i = 0; i < 7; i++) ac.admit('a');
    assert.equal(refused(ac, 'a', 'rate_limit_exceeded').retryAfterSeconds, 9); // 60/7 = 8.57 s
    clock.advance(8571); // 60000/7 = 8571.43 ms
    refused(ac, 'a', 'rate_limit_exceeded');
    clock.advance(1);
    ac.admit('a');
    refused(ac, 'a', 'rate_limit_exceeded');
  });

  it('gives a limit of 1 per minute a 60 s Retry-After', () => {
    const ac = control({ requestsPerMinutePerKey: 1 });
    ac.admit('a').release();
    assert.equal(refused(ac, 'a', 'rate_limit_exceeded').retryAfterSeconds, 60);
  });

  it('refills completely after a minute of idleness', () => {
    const clock = fakeClock();
    const ac = control({ requestsPerMinutePerKey: 5 }, clock);
    for (let i = 0; i < 5; i++) ac.admit('a').release();
    refused(ac, 'a', 'rate_limit_exceeded');
    clock.advance(60_000);
    for (let i = 0; i < 5; i++) ac.admit('a').release();
    refused(ac, 'a', 'rate_limit_exceeded');
  });

  it('keeps a separate budget per key', () => {
    const ac = control({ requestsPerMinutePerKey: 2 });
    ac.admit('a').release();
    ac.admit('a').release();
    refused(ac, 'a', 'rate_limit_exceeded');
    ac.admit('b').release();
    ac.admit('b').release();
    refused(ac, 'b', 'rate_limit_exceeded');
  });

  it('does not charge a request refused for concurrency against the rate limit', () => {
    const ac = control({ requestsPerMinutePerKey: 2, maxConcurrentStreamsPerKey: 1 });
    const first = ac.admit('a');
    refused(ac, 'a', 'too_many_concurrent_streams_for_key');
    refused(ac, 'a', 'too_many_concurrent_streams_for_key');
    first.release();
    ac.admit('a').release();
    refused(ac, 'a', 'rate_limit_exceeded');
  });

  it('reports the rate limit first, since its Retry-After is the longer one', () => {
    const ac = control({ requestsPerMinutePerKey: 1, maxConcurrentStreamsPerKey: 1, maxConcurrentStreams: 1 });
    ac.admit('a');
    assert.equal(refused(ac, 'a', 'rate_limit_exceeded').retryAfterSeconds, 60);
  });

  it('treats 0 as unlimited and then keeps no per-key records', () => {
    const ac = control({ requestsPerMinutePerKey: 0 });
    for (let i = 0; i < 10_000; i++) ac.admit(`key-${i % 3}`).release();
    assert.equal(ac.trackedKeys(), 0);
  });
});

describe('AdmissionControl: memory', () => {
  it('forgets keys idle for a minute, lazily on admit', () => {
    const clock = fakeClock();
    const ac = control({ requestsPerMinutePerKey: 5 }, clock);
    for (let i = 0; i < 5000; i++) ac.admit(`key-${i}`).release();
    assert.equal(ac.trackedKeys(), 5000);

    clock.advance(30_000);
    ac.admit('key-7').release(); // used again: must outlive the others
    clock.advance(29_999);
    ac.admit('late').release();
    assert.equal(ac.trackedKeys(), 5001, 'nothing is idle for a full minute yet');

    clock.advance(1); // the first 4999 keys are now idle for exactly 60 s
    ac.admit('later').release();
    assert.equal(ac.trackedKeys(), 3, 'key-7, late, later');

    clock.advance(60_000);
    ac.admit('last').release();
    assert.equal(ac.trackedKeys(), 1);
  });

  it('keeps the limit of a key that is still within its minute', () => {
    const clock = fakeClock();
    const ac = control({ requestsPerMinutePerKey: 2 }, clock);
    ac.admit('a').release();
    ac.admit('a').release();
    for (let i = 0; i < 100; i++) {
      clock.advance(100);
      ac.admit(`filler-${i}`).release();
    }
    refused(ac, 'a', 'rate_limit_exceeded');
  });

  it('counts keys with streams in flight and drops them when their streams end', () => {
    const ac = control({});
    const a = ac.admit('a');
    const b = ac.admit('b');
    assert.equal(ac.trackedKeys(), 2);
    a.release();
    assert.equal(ac.trackedKeys(), 1);
    b.release();
    assert.equal(ac.trackedKeys(), 0);
  });
});

describe('AdmissionControl.waitForIdle', () => {
  it('resolves true at once when nothing is in flight', async () => {
    const ac = control({});
    assert.equal(await ac.waitForIdle(0), true);
    ac.admit('a').release();
    assert.equal(await ac.waitForIdle(10), true);
  });

  it('resolves true when the last stream ends, for every waiter', async () => {
    const ac = control({});
    const a = ac.admit('a');
    const b = ac.admit('b');
    let settled = false;
    const first = ac.waitForIdle(10_000).then((idle) => {
      settled = true;
      return idle;
    });
    const second = ac.waitForIdle(10_000);
    a.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'one stream is still in flight');
    const started = performance.now();
    b.release();
    assert.deepEqual(await Promise.all([first, second]), [true, true]);
    assert.ok(performance.now() - started < 1000, 'resolved on release, not on timeout');
  });

  it('resolves false at the timeout while streams remain', async () => {
    const ac = control({});
    const ticket = ac.admit('a');
    const keepAlive = setTimeout(() => {}, 5000); // the wait's own timer is unref'd
    try {
      const started = performance.now();
      assert.equal(await ac.waitForIdle(30), false);
      assert.ok(performance.now() - started >= 25);
      assert.equal(await ac.waitForIdle(0), false);
      assert.equal(ac.inFlight(), 1);
      ticket.release();
      assert.equal(await ac.waitForIdle(30), true);
    } finally {
      clearTimeout(keepAlive);
    }
  });

  it('does not keep the process alive while waiting', async () => {
    const ac = control({});
    const ticket = ac.admit('a');
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timers();
    const waiting = ac.waitForIdle(60_000);
    assert.equal(timers(), before, "the timer is unref'd");
    ticket.release();
    assert.equal(await waiting, true);
  });
});
