import { randomUUID } from 'node:crypto';
import { REPLICA_NAME } from '../replica-name.ts';
import type { Redis } from 'ioredis';
import type { ChatMessage } from '../../core/chat-types.ts';
import type { AdmissionLimits, AdmissionTicket } from '../admission.ts';
import type { Logger } from 'pino';
import type { SharedStateMetricsSource } from '../shared-state-metrics.ts';
import type { CallTurn, LiveCall, TurnStart } from '../call-registry.ts';
import type { CallState, SharedStateStatus } from '../call-state.ts';
import { cancellation } from '../cancellation.ts';
import type { LocalCallState } from '../local-call-state.ts';
import { beginScript, endScript, ownerToken, type BeginReply, type CallKeys, type Owner } from './call-scripts.ts';
import { decodeMemory, encodeMemory } from './remembered-messages.ts';
import { SharedAdmission } from './shared-admission.ts';
import { SharedStateHealth } from './shared-state-health.ts';
import { StateKeys } from './state-keys.ts';
import { withinBudget } from './within-budget.ts';

/** A turn of this replica begun on the shared state. */
interface SharedTurn {
  controller: AbortController;
  sentenceId: number | undefined;
  owner: Owner;
}

export interface RedisCallStateOptions {
  /** Commands (scripts, admission). */
  redis: Redis;
  /** A second connection, subscribed to the cancel channel. */
  subscriber: Redis;
  /** This replica's own state: the fallback while Redis is down, and the global stream cap always. */
  local: LocalCallState;
  /** The per-key limits, counted across replicas. */
  limits: AdmissionLimits;
  keyPrefix: string;
  timeoutMs: number;
  leaseMs: number;
  newCallAfterMs: number;
  maxMemoryBytesPerCall: number;
  logger: Logger;
  probeIntervalMs?: number;
}

/**
 * Call state shared by the replicas through Redis (state.store redis). A turn's BEGIN script
 * decides, atomically, whether it answers and takes the call over; the turn it supersedes is
 * aborted where it runs: here directly, on another replica through the cancel channel, which
 * every replica subscribes to once (a message is a turn id, nothing else). Every Redis operation
 * on a turn's path runs within `timeoutMs`; on a failure the turn goes on with this replica's
 * own state and the shared state is degraded until Redis answers again (SharedStateHealth).
 */
export class RedisCallState implements CallState, SharedStateMetricsSource {
  readonly #options: RedisCallStateOptions;
  readonly #keys: StateKeys;
  readonly #health: SharedStateHealth;
  readonly #admission: SharedAdmission;
  /** Readable in Redis (which replica answers a call), unique across restarts. */
  readonly #replicaId = `${REPLICA_NAME}:${randomUUID().slice(0, 8)}`;
  /** The turns of this replica begun on the shared state, by turn id (what a cancel names). */
  readonly #turns = new Map<string, AbortController>();
  /** The newest such turn of each call, by call id: what a turn begun on local state supersedes. */
  readonly #sharedLive = new Map<string, SharedTurn>();
  #remoteCancels = 0;

  constructor(options: RedisCallStateOptions) {
    this.#options = options;
    const { redis, subscriber, logger } = options;
    this.#keys = new StateKeys(options.keyPrefix);
    this.#health = new SharedStateHealth({
      timeoutMs: options.timeoutMs,
      probeIntervalMs: options.probeIntervalMs ?? 1000,
      logger,
      probe: async () => {
        if (subscriber.status !== 'ready') throw new Error(`the subscriber connection is ${subscriber.status}`);
        await Promise.all([redis.ping(), subscriber.ping()]);
      },
    });
    this.#admission = new SharedAdmission({
      redis,
      keys: this.#keys,
      health: this.#health,
      local: options.local.admission,
      limits: options.limits,
      leaseMs: options.leaseMs,
    });
    subscriber.on('message', (channel: string, turnId: string) => {
      if (channel !== this.#keys.cancelChannel) return;
      const controller = this.#turns.get(turnId);
      if (controller === undefined || controller.signal.aborted) return;
      this.#remoteCancels++;
      controller.abort(cancellation('superseded'));
    });
    // A connection lost is a degraded state at once (not at the next turn's timeout); one back is a rejoin attempt.
    for (const connection of [redis, subscriber]) {
      connection.on('error', (error: Error) => this.#health.degrade(error));
      connection.on('close', () => this.#health.degrade(new Error('a Redis connection closed')));
      connection.on('ready', () => {
        void this.#health.probe();
        // Cancels sent while the subscriber was away are lost: ask Redis who owns each call now.
        void this.#reconcile();
      });
    }
  }

  /** Subscribes to the cancel channel and waits (within `waitMs`) for Redis; a Redis that is not there yet leaves the state degraded. */
  async start(waitMs: number): Promise<void> {
    this.#options.subscriber.subscribe(this.#keys.cancelChannel).catch(() => {});
    const deadline = Date.now() + waitMs;
    while (!(await this.#health.probe()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (!this.#health.up) this.#health.degrade(new Error('Redis not reachable at startup'));
  }

  get sharedState(): SharedStateStatus {
    return this.#health.up ? 'up' : 'degraded';
  }

  get fallbacks(): Readonly<Record<string, number>> {
    return this.#health.fallbacks;
  }

  get remoteCancels(): number {
    return this.#remoteCancels;
  }

  admit(keyId: string): AdmissionTicket | Promise<AdmissionTicket> {
    return this.#admission.admit(keyId);
  }

  beginTurn(start: TurnStart): CallTurn | undefined | Promise<CallTurn | undefined> {
    if (start.id === undefined) return undefined;
    if (!this.#health.up) {
      this.#health.fellBack('begin');
      return this.#beginLocal(start, start.id);
    }
    return this.#beginShared(start, start.id);
  }

  endCall(id: string): void {
    this.#options.local.endCall(id);
    if (!this.#health.up) {
      this.#health.fellBack('end_call');
      return;
    }
    const keys = this.#keys.call(id);
    this.#health.run('end_call', () => this.#options.redis.del(keys.call, keys.memory)).catch(() => {});
  }
  /** A call with a turn on this replica now, or one it answered on its own state. */
  holds(id: string): boolean {
    return this.#sharedLive.has(id) || this.#options.local.holds(id);
  }

  async close(reason: unknown): Promise<void> {
    for (const controller of this.#turns.values()) controller.abort(reason);
    this.#admission.close();
    this.#health.close();
    await this.#options.local.close(reason);
    this.#options.subscriber.disconnect();
    // QUIT lets the last ENDs and releases through; a connection that is not up only stops reconnecting.
    const { redis } = this.#options;
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  }

  async #beginShared(start: TurnStart, callId: string): Promise<CallTurn | undefined> {
    const { controller } = start;
    const owner: Owner = { replicaId: this.#replicaId, turnId: randomUUID() };
    const keys = this.#keys.call(callId);
    // Listed before BEGIN: a newer turn elsewhere may cancel this one the moment BEGIN returns.
    this.#turns.set(owner.turnId, controller);
    let reply: BeginReply;
    try {
      reply = await this.#health.run('begin', () =>
        beginScript(this.#options.redis, keys, {
          sentenceId: start.sentenceId,
          opening: start.opening,
          replicaId: owner.replicaId,
          turnId: owner.turnId,
          idleMs: start.idleMs,
          newCallAfterMs: this.#options.newCallAfterMs,
          keepTranscript: start.keepTranscript,
          cancelChannel: this.#keys.cancelChannel,
        }),
      );
    } catch {
      this.#turns.delete(owner.turnId);
      return this.#beginLocal(start, callId);
    }
    if (reply.place === 'late') {
      this.#turns.delete(owner.turnId);
      controller.abort(cancellation('superseded'));
      return undefined;
    }
    // The superseded turn ran on this replica: no message needed.
    if (reply.previousOwner?.replicaId === this.#replicaId) this.#turns.get(reply.previousOwner.turnId)?.abort(cancellation('superseded'));
    // A turn of the call begun here while Redis was down is not known to Redis: superseded too.
    this.#options.local.registry.supersede(callId);
    const live: SharedTurn = { controller, sentenceId: start.sentenceId, owner };
    this.#sharedLive.set(callId, live);
    const call: LiveCall = {
      id: callId,
      transcript: start.keepTranscript ? decodeMemory(reply.memory) : [],
      failedTurns: reply.failedTurns,
    };
    let memory: string | undefined;
    return {
      call,
      remember: (conversation: ChatMessage[], answer: string) => {
        if (!start.keepTranscript) return;
        const said: ChatMessage[] = answer === '' ? conversation : [...conversation, { role: 'assistant', content: answer }];
        memory = encodeMemory(said, this.#options.maxMemoryBytesPerCall);
      },
      end: () => {
        this.#turns.delete(owner.turnId);
        if (this.#sharedLive.get(callId) === live) this.#sharedLive.delete(callId);
        this.#end(keys, {
          epoch: reply.epoch,
          owner,
          sentenceId: start.sentenceId,
          failedTurns: call.failedTurns === reply.failedTurns ? undefined : call.failedTurns,
          memory,
          idleMs: start.idleMs,
        });
      },
    };
  }

  /**
   * The turn on this replica's own state (Redis down or failing). A turn of the call that began
   * here on the shared state is still superseded, unless this is a late request for an older
   * sentence: barge-in on one replica does not depend on Redis.
   */
  #beginLocal(start: TurnStart, callId: string): CallTurn | undefined {
    const turn = this.#options.local.beginTurn(start);
    const shared = this.#sharedLive.get(callId);
    if (
      turn !== undefined &&
      shared !== undefined &&
      !(start.sentenceId !== undefined && shared.sentenceId !== undefined && start.sentenceId < shared.sentenceId)
    ) {
      shared.controller.abort(cancellation('superseded'));
    }
    return turn;
  }

  /** Supersedes this replica's shared turns whose call a newer turn took over while the subscriber was away. */
  async #reconcile(): Promise<void> {
    const { redis } = this.#options;
    await Promise.all(
      [...this.#sharedLive].map(async ([callId, live]) => {
        const owner = await withinBudget(redis.hget(this.#keys.call(callId).call, 'owner'), this.#options.timeoutMs).catch(() => undefined);
        if (owner !== undefined && owner !== ownerToken(live.owner) && !live.controller.signal.aborted) {
          this.#remoteCancels++;
          live.controller.abort(cancellation('superseded'));
        }
      }),
    );
  }

  /** Not waited for: the caller has heard the answer; the next turn comes seconds later. */
  #end(keys: CallKeys, args: Parameters<typeof endScript>[2]): void {
    if (!this.#health.up) {
      this.#health.fellBack('end');
      return;
    }
    this.#health.run('end', () => endScript(this.#options.redis, keys, args)).catch(() => {});
  }
}
