import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { AdmissionControl } from '../../src/calls/admission.ts';
import { SharedAdmission } from '../../src/calls/redis/shared-admission.ts';
import type { SharedStateHealth } from '../../src/calls/redis/shared-state-health.ts';
import type { StateKeys } from '../../src/calls/redis/state-keys.ts';
import { GatewayError } from '../../src/core/gateway-error.ts';

describe('SharedAdmission', () => {
  it('refuses at once when this replica is full: no Redis round trip, named as the full gateway', async () => {
    let redisAsked = 0;
    const health = {
      up: true,
      fellBack: () => {},
      run: () => {
        redisAsked++;
        throw new Error('Redis is not asked');
      },
    } as unknown as SharedStateHealth;
    const limits = { maxConcurrentStreams: 1, maxConcurrentStreamsPerKey: 1, requestsPerMinutePerKey: 0 };
    const local = new AdmissionControl(limits);
    const admission = new SharedAdmission({ redis: {} as Redis, keys: {} as StateKeys, health, local, limits, leaseMs: 60_000 });
    try {
      local.admit('key-1');
      assert.throws(
        () => admission.admit('key-1'),
        (error: unknown) => error instanceof GatewayError && error.code === 'too_many_concurrent_streams',
      );
      assert.equal(redisAsked, 0);
    } finally {
      admission.close();
    }
  });
});
