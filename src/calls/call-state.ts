import type { AdmissionTicket } from './admission.ts';
import type { CallTurn, TurnStart } from './call-registry.ts';

/** How the shared state stands: undefined when calls are kept in this process only (state.store memory). */
export type SharedStateStatus = 'up' | 'degraded' | undefined;

/**
 * What the chat route needs of call state: admission of a stream (per-key concurrency and
 * requests per minute), the turn's place in its call (answer, or superseded by a newer turn),
 * cancelling the older turn of the call wherever it runs, call memory and the failure count.
 * `LocalCallState` keeps it in this process; `RedisCallState` shares it between replicas. The
 * local one answers synchronously, so its hot path gains no promise.
 */
export interface CallState {
  /** Admits one stream for the key, or throws a 429 GatewayError. */
  admit(keyId: string): AdmissionTicket | Promise<AdmissionTicket>;
  /**
   * Starts a turn. Undefined when the request names no call, or when it is a late request for an
   * older question of a live call: its controller is then already aborted (superseded).
   */
  beginTurn(start: TurnStart): CallTurn | undefined | Promise<CallTurn | undefined>;
  /** The platform says the call ended (IMS agent_stop): its sentence order and memory are dropped. */
  endCall(id: string): void;
  /** Whether this replica holds the call (a socket platform reconnecting to a call it began here). */
  holds(id: string): boolean;
  readonly sharedState: SharedStateStatus;
  /** Cancels every live turn (shutdown) and lets go of its resources. */
  close(reason: unknown): Promise<void>;
}
