import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { admitScript, renewScript } from '../../src/calls/redis/admission-scripts.ts';
import { beginScript, endScript, type BeginArgs, type CallKeys } from '../../src/calls/redis/call-scripts.ts';
import { StateKeys } from '../../src/calls/redis/state-keys.ts';
import { placeTurn } from '../../src/calls/new-call-rule.ts';
import { deleteKeys, redisSkipReason, testRedis, uniquePrefix } from '../support/redis.ts';

const skip = await redisSkipReason();
const NEW_CALL_AFTER_MS = 10_000;

describe('the shared-state Lua scripts, on a real Redis', { skip }, () => {
  let redis: Redis;
  const prefix = uniquePrefix('scripts');
  const keys = new StateKeys(prefix);
  let calls = 0;
  const freshCall = (): CallKeys => keys.call(`key-1\ninstance\ncall-${++calls}`);
  const begin = (call: CallKeys, args: Partial<BeginArgs>) =>
    beginScript(redis, call, {
      sentenceId: undefined,
      opening: ['aaaa'],
      replicaId: 'replica-a',
      turnId: `turn-${Math.random()}`,
      idleMs: 60_000,
      newCallAfterMs: NEW_CALL_AFTER_MS,
      keepTranscript: true,
      cancelChannel: keys.cancelChannel,
      ...args,
    });
  const redisNow = async () => {
    const [seconds, micros] = await redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };

  before(() => {
    redis = testRedis();
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('BEGIN places a turn exactly as placeTurn does (sentence order, idle calls, restarted numbering)', async () => {
    const remembered = ['aaaa', 'bbbb'];
    const candidates = [['aaaa'], ['aaaa', 'bbbb'], ['cccc'], [], ['aaaa', 'bbbb', 'cccc']];
    let checked = 0;
    for (const latest of [undefined, 0, 1, 5]) {
      for (const busy of [false, true]) {
        for (const quietMs of [1000, 20_000]) {
          for (const sentenceId of [undefined, 0, 1, 3, 5, 7]) {
            for (const opening of candidates) {
              const call = freshCall();
              const now = await redisNow();
              const fields: Record<string, string | number> = {
                epoch: 'e0',
                open: remembered.join(','),
                seen: now - quietMs,
                owner: busy ? 'replica-b|t0' : '',
                fail: 0,
              };
              if (latest !== undefined) fields.sid = latest;
              await redis.hset(call.call, fields);
              const reply = await begin(call, { sentenceId, opening });
              const expected = placeTurn(
                { latestSentenceId: latest, opening: remembered, turnInProgress: busy, lastSeenAt: now - quietMs },
                { sentenceId, opening },
                now,
                NEW_CALL_AFTER_MS,
              );
              assert.equal(reply.place, expected, JSON.stringify({ latest, busy, quietMs, sentenceId, opening }));
              checked++;
            }
          }
        }
      }
    }
    assert.equal(checked, 480);
  });

  it('BEGIN takes the call over and names the previous owner; only one on another replica is published', async () => {
    const call = freshCall();
    const messages: string[] = [];
    const subscriber = testRedis();
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.subscribe(keys.cancelChannel);
    try {
      const first = await begin(call, { sentenceId: 1, replicaId: 'replica-a', turnId: 't1' });
      assert.ok(
        first.place === 'same_call' && first.previousOwner === undefined && first.epoch === 't1',
        'a new call, its epoch the first turn',
      );
      const second = await begin(call, { sentenceId: 2, replicaId: 'replica-b', turnId: 't2' });
      assert.ok(second.place === 'same_call');
      assert.deepEqual(second.previousOwner, { replicaId: 'replica-a', turnId: 't1' });
      const third = await begin(call, { sentenceId: 3, replicaId: 'replica-b', turnId: 't3' });
      assert.ok(third.place === 'same_call');
      assert.deepEqual(third.previousOwner, { replicaId: 'replica-b', turnId: 't2' });
      await redis.ping();
      await subscriber.ping();
      assert.deepEqual(messages, ['t1'], 'the turn on replica-a was told; replica-b aborts its own turn itself');
      assert.equal((await begin(call, { sentenceId: 2, opening: ['aaaa'] })).place, 'late');
      assert.equal(await redis.hget(call.call, 'owner'), 'replica-b|t3', 'a late turn changes nothing');
    } finally {
      subscriber.disconnect();
    }
  });

  it('END writes memory and failures into its own call only, and a late answer never rolls memory back', async () => {
    const call = freshCall();
    const first = await begin(call, { sentenceId: 1, turnId: 't1' });
    assert.ok(first.place !== 'late');
    const second = await begin(call, { sentenceId: 2, turnId: 't2' });
    assert.ok(second.place !== 'late');
    const owner = (turnId: string) => ({ replicaId: 'replica-a', turnId });
    const base = { epoch: first.epoch, idleMs: 60_000, failedTurns: undefined };
    assert.equal(await endScript(redis, call, { ...base, owner: owner('t2'), sentenceId: 2, memory: '["newer"]', failedTurns: 2 }), true);
    assert.equal(await redis.hget(call.call, 'owner'), '');
    assert.equal(await endScript(redis, call, { ...base, owner: owner('t1'), sentenceId: 1, memory: '["older"]' }), true);
    assert.equal(await redis.get(call.memory), '["newer"]', 'the late answer to sentence 1 did not replace the memory');
    const pttl = await redis.pttl(call.memory);
    assert.ok(pttl > 50_000 && pttl <= 60_000, `the memory expires with the call's idle time (${pttl} ms)`);
    const third = await begin(call, { sentenceId: 3, turnId: 't3' });
    assert.ok(third.place === 'same_call');
    assert.equal(third.memory, '["newer"]');
    assert.equal(third.failedTurns, 2);

    // A new call under the same id: the old call's turn can no longer write into it.
    const fresh = await begin(call, { sentenceId: 0, opening: ['zzzz'], turnId: 't4' });
    assert.ok(fresh.place === 'new_call');
    assert.equal(fresh.memory, undefined, "the old call's memory is gone");
    assert.equal(fresh.failedTurns, 0);
    assert.equal(await endScript(redis, call, { ...base, owner: owner('t3'), sentenceId: 3, memory: '["stale"]' }), false);
    assert.equal(await redis.get(call.memory), null);
  });

  it('BEGIN of an agent without memory drops what the call remembered', async () => {
    const call = freshCall();
    const first = await begin(call, { turnId: 't1' });
    assert.ok(first.place !== 'late');
    await endScript(redis, call, {
      epoch: first.epoch,
      owner: { replicaId: 'replica-a', turnId: 't1' },
      sentenceId: undefined,
      failedTurns: undefined,
      memory: '["x"]',
      idleMs: 60_000,
    });
    assert.equal((await begin(call, { keepTranscript: false })).place, 'same_call');
    assert.equal(await redis.exists(call.memory), 0);
  });

  it('ADMIT counts requests per minute with GCRA: the limit at once, then one per 60 s / limit', async () => {
    const admission = keys.admission('key-rpm');
    const args = { requestsPerMinute: 3, streamsPerKey: 100, leaseMs: 60_000 };
    for (let i = 0; i < 3; i++) assert.deepEqual(await admitScript(redis, admission, { ...args, leaseId: `l${i}` }), { verdict: 'ok' });
    const refused = await admitScript(redis, admission, { ...args, leaseId: 'l3' });
    assert.equal(refused.verdict, 'rate');
    assert.ok(refused.verdict === 'rate' && refused.retryAfterSeconds >= 19 && refused.retryAfterSeconds <= 20, JSON.stringify(refused));
    assert.equal(await redis.zcard(admission.streams), 3, 'a refused request takes no stream slot');
  });

  it('ADMIT counts streams in flight by lease: a lease not renewed frees its slot, a renewed one does not', async () => {
    const admission = keys.admission('key-streams');
    const args = { requestsPerMinute: 0, streamsPerKey: 2, leaseMs: 300 };
    assert.equal((await admitScript(redis, admission, { ...args, leaseId: 'kept' })).verdict, 'ok');
    assert.equal((await admitScript(redis, admission, { ...args, leaseId: 'dead' })).verdict, 'ok');
    assert.equal((await admitScript(redis, admission, { ...args, leaseId: 'third' })).verdict, 'streams');
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await renewScript(redis, admission.streams, 'kept', 300);
    }
    assert.equal(
      (await admitScript(redis, admission, { ...args, leaseId: 'third' })).verdict,
      'ok',
      "the dead replica's slot freed itself",
    );
    assert.equal(
      (await admitScript(redis, admission, { ...args, leaseId: 'fourth' })).verdict,
      'streams',
      'the renewed lease still holds its slot',
    );
    await redis.zrem(admission.streams, 'kept');
    assert.equal((await admitScript(redis, admission, { ...args, leaseId: 'fourth' })).verdict, 'ok', 'a released slot is free at once');
  });
});
