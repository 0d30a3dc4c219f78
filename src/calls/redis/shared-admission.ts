import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { keyStreamsError, rateLimitError, type AdmissionControl, type AdmissionLimits, type AdmissionTicket } from '../admission.ts';
import { admitScript, renewScript, type AdmitReply } from './admission-scripts.ts';
import type { SharedStateHealth } from './shared-state-health.ts';
import type { StateKeys } from './state-keys.ts';

export interface SharedAdmissionOptions {
  redis: Redis;
  keys: StateKeys;
  health: SharedStateHealth;
  /** This replica's admission: the global cap always, and the per-key limits while Redis is down. */
  local: AdmissionControl;
  limits: AdmissionLimits;
  leaseMs: number;
}

/**
 * Per-key streams in flight and requests per minute counted across replicas (ADMIT), then this
 * replica's own admission. The local controller sees every stream this replica admits, so its
 * per-key counts (a subset of the shared ones, never refusing what Redis admitted) are already
 * warm when Redis fails and it takes over. A stream's shared slot is a lease renewed every third
 * of `leaseMs` while it runs, so the slots of a replica that died free themselves.
 */
export class SharedAdmission {
  readonly #options: SharedAdmissionOptions;
  /** Live leases of this replica: lease id -> streams key. */
  readonly #leases = new Map<string, string>();
  readonly #renewer: NodeJS.Timeout;

  constructor(options: SharedAdmissionOptions) {
    this.#options = options;
    this.#renewer = setInterval(() => this.#renew(), Math.max(1000, Math.floor(options.leaseMs / 3)));
    this.#renewer.unref();
  }

  admit(keyId: string): AdmissionTicket | Promise<AdmissionTicket> {
    const { health, local } = this.#options;
    if (!health.up) {
      health.fellBack('admit');
      return local.admit(keyId);
    }
    // A full replica refuses at once, as itself: no round trip, and no shared rate slot spent.
    if (local.full) return local.admit(keyId);
    return this.#admitShared(keyId);
  }

  close(): void {
    clearInterval(this.#renewer);
  }

  async #admitShared(keyId: string): Promise<AdmissionTicket> {
    const { redis, keys, health, local, limits, leaseMs } = this.#options;
    const leaseId = randomUUID();
    const keyNames = keys.admission(keyId);
    const streamsKey = keyNames.streams;
    let reply: AdmitReply;
    try {
      reply = await health.run('admit', () =>
        admitScript(redis, keyNames, {
          requestsPerMinute: limits.requestsPerMinutePerKey,
          streamsPerKey: limits.maxConcurrentStreamsPerKey,
          leaseId,
          leaseMs,
        }),
      );
    } catch {
      return local.admit(keyId);
    }
    if (reply.verdict === 'rate') throw rateLimitError(limits.requestsPerMinutePerKey, reply.retryAfterSeconds);
    if (reply.verdict === 'streams') throw keyStreamsError(limits.maxConcurrentStreamsPerKey);
    let ticket: AdmissionTicket;
    try {
      ticket = local.admit(keyId);
    } catch (error) {
      this.#release(leaseId, streamsKey);
      throw error;
    }
    this.#leases.set(leaseId, streamsKey);
    return {
      release: () => {
        if (ticket.released) return;
        ticket.release();
        this.#release(leaseId, streamsKey);
      },
      get released() {
        return ticket.released;
      },
    };
  }

  /** Frees the shared slot without waiting; if Redis misses it, the lease expires on its own. */
  #release(leaseId: string, streamsKey: string): void {
    this.#leases.delete(leaseId);
    const { redis, health } = this.#options;
    if (!health.up) {
      health.fellBack('release');
      return;
    }
    health.run('release', () => redis.zrem(streamsKey, leaseId)).catch(() => {});
  }

  #renew(): void {
    const { redis, health, leaseMs } = this.#options;
    if (!health.up || this.#leases.size === 0) return;
    // Written in one go (one flush of the connection); a lost renewal is made up by the next one.
    for (const [leaseId, streamsKey] of this.#leases) renewScript(redis, streamsKey, leaseId, leaseMs).catch(() => {});
  }
}
