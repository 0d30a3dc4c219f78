import type { SharedStateMetricsSource } from '../calls/shared-state-metrics.ts';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TurnCancellation, TurnStatus } from './turn-outcome.ts';
import type { FinishedTurn } from './turn-report.ts';

/**
 * Prometheus metrics of one gateway. Each gateway owns its own Registry (several gateways may run in
 * one process, e.g. in tests); Node process metrics live in one registry shared by the process and
 * are appended to every scrape.
 *
 * Everything here is O(1) bookkeeping. On the streaming path only `streamStarted`/`streamEnded`
 * (an unlabelled gauge) are meant to be called; the rest is recorded once when a turn ends
 * (`observeTurn`) or when a request is refused.
 *
 * Label values are bounded: agent, provider and tool names come from the config and reasons from
 * fixed enums; as a second line of defence every label keeps at most a fixed number of distinct
 * values, later ones are reported as `other`. Never pass call ids, instance ids or keys.
 */

/** How one provider attempt of a turn ended (see AttemptEvent in resilience/provider-chain.ts). */
export interface AttemptSummary {
  provider: string;
  outcome: 'committed' | 'retried' | 'failed' | 'skipped';
  /** The GatewayError code of a retried, failed or skipped attempt (a fixed code, e.g. upstream_timeout). */
  errorCode?: string;
}

/** One server-side tool call of a turn. */
export interface ToolRunSummary {
  /** The tool's name from the config. */
  name: string;
  ok: boolean;
  /** The error kind when not ok (timeout, http_error, network_error, invalid_arguments, aborted). */
  error?: string;
}

export type CancellationReason = TurnCancellation;

/** What `observeTurn` needs to know about a finished turn. */
export interface TurnSummary {
  agent: string;
  /** The provider that answered (the agent's first until a fallback committed). */
  provider: string;
  outcome: TurnStatus;
  /** Time to the first text sent to the client; omitted when no text was sent. */
  ttftSeconds?: number;
  /** The turn's time minus the time spent waiting on upstreams and tools; omitted if not meaningful. */
  overheadSeconds?: number;
  /** In the order they happened. */
  attempts: readonly AttemptSummary[];
  toolRuns: readonly ToolRunSummary[];
  signal?: 'hangup' | 'transfer';
  cancellation?: CancellationReason;
  /** IMS commands the model wrote itself: which (hangup, transfer, hangup_function, other) and what became of it. */
  modelCommands?: ReadonlyArray<{ command: string; action: string }>;
  /** Key presses the model asked for that were not made: why (invalid_keys, no_keypad, keypad_limit, call_ended). */
  keyPressesDropped?: ReadonlyArray<{ reason: string }>;
}

/** What the record store exposes about its write queue (BatchedRecordStore fits). */
export interface RecordQueueSource {
  readonly queueDepth: number;
  /** Records dropped since start (monotonic). */
  readonly dropped: number;
  /** `dropped` by reason (queue_full, write_failed, invalid_record); monotonic. */
  readonly droppedByReason: Readonly<Record<string, number>>;
  /** Record fields cut to their cap since start, by field; monotonic. */
  readonly truncated?: ReadonlyMap<string, number>;
}

/** What the call registry exposes about the calls it holds (CallRegistry fits). */
export interface CallMemorySource {
  readonly size: number;
  /** Approximate heap bytes of all calls. */
  readonly memoryBytes: number;
  /** Calls forgotten since start, by reason (monotonic). */
  readonly evictions: Readonly<Record<string, number>>;
}

/** What shared call state exposes (RedisCallState fits): state.store redis only. */
/** The extendData fields checked at the edge, the only values the rejection counter takes. */
const EXTEND_DATA_FIELDS: ReadonlySet<string> = new Set([
  'instanceId',
  'channelId',
  'sentenceId',
  'callerNumber',
  'calleeNumber',
  'userData',
]);

export interface GatewayMetricsOptions {
  /** Append Node process metrics (shared by the process) to every scrape. Default true. */
  processMetrics?: boolean;
}

/** Seconds; a voice caller notices from ~300 ms, a turn is lost after a few seconds. */
export const TTFT_BUCKETS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10] as const;
/** Seconds; the gateway's own work per turn should stay well under 10 ms. */
export const OVERHEAD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5] as const;

/** The replacement for a label value past a dimension's cap. */
export const OTHER = 'other';

export class GatewayMetrics {
  /** This gateway's metrics (without the shared process metrics). */
  readonly registry = new Registry();
  readonly contentType: string = Registry.PROMETHEUS_CONTENT_TYPE;

  readonly #processMetrics: boolean;
  #recordQueue: RecordQueueSource | undefined;
  readonly #droppedSeen = new MirroredTotals();
  readonly #truncatedSeen = new MirroredTotals();
  #calls: CallMemorySource | undefined;
  readonly #evictionsSeen = new MirroredTotals();
  #shared: SharedStateMetricsSource | undefined;
  readonly #sharedFallbacksSeen = new MirroredTotals();
  readonly #remoteCancelsSeen = new MirroredTotals();

  readonly #agents = new BoundedLabel(200);
  readonly #providers = new BoundedLabel(200);
  readonly #tools = new BoundedLabel(500);
  readonly #errorKinds = new BoundedLabel(100);
  readonly #reasons = new BoundedLabel(50);

  readonly #turns: Counter<'agent' | 'provider' | 'outcome'>;
  readonly #activeStreams: Gauge;
  readonly #ttft: Histogram<'agent' | 'provider'>;
  readonly #overhead: Histogram;
  readonly #upstreamErrors: Counter<'provider' | 'kind'>;
  readonly #retries: Counter<'provider'>;
  readonly #fallbacks: Counter<'agent' | 'provider'>;
  readonly #cancellations: Counter<'agent' | 'reason'>;
  readonly #toolCalls: Counter<'tool' | 'result'>;
  readonly #hangups: Counter<'agent'>;
  readonly #transfers: Counter<'agent'>;
  readonly #admissionRejections: Counter<'reason'>;
  readonly #rejectedExtendData: Counter<'field'>;
  readonly #modelCommands: Counter<'agent' | 'command' | 'action'>;
  readonly #keyPressesDropped: Counter<'agent' | 'reason'>;
  readonly #refusals: Counter<'reason'>;

  constructor(options: GatewayMetricsOptions = {}) {
    this.#processMetrics = options.processMetrics ?? true;
    const registers = [this.registry];
    this.#turns = new Counter({
      name: 'vlg_turns_total',
      help: 'Chat-completion turns finished, by agent, answering provider and outcome.',
      labelNames: ['agent', 'provider', 'outcome'],
      registers,
    });
    this.#activeStreams = new Gauge({
      name: 'vlg_active_streams',
      help: 'Chat-completion responses being streamed right now.',
      registers,
    });
    this.#ttft = new Histogram({
      name: 'vlg_time_to_first_token_seconds',
      help: 'Time from the request to the first text sent to the client.',
      labelNames: ['agent', 'provider'],
      buckets: [...TTFT_BUCKETS],
      registers,
    });
    this.#overhead = new Histogram({
      name: 'vlg_gateway_overhead_seconds',
      help: 'Time a turn spent in the gateway itself: its duration minus waiting on upstreams and tools.',
      buckets: [...OVERHEAD_BUCKETS],
      registers,
    });
    this.#upstreamErrors = new Counter({
      name: 'vlg_upstream_errors_total',
      help: 'Provider attempts that failed, were retried or were skipped (circuit open), by provider and error code.',
      labelNames: ['provider', 'kind'],
      registers,
    });
    this.#retries = new Counter({
      name: 'vlg_upstream_retries_total',
      help: 'Provider attempts retried on the same provider before the first token.',
      labelNames: ['provider'],
      registers,
    });
    this.#fallbacks = new Counter({
      name: 'vlg_fallbacks_total',
      help: "Turns answered by a provider other than the agent's first, by the provider that answered.",
      labelNames: ['agent', 'provider'],
      registers,
    });
    this.#cancellations = new Counter({
      name: 'vlg_cancellations_total',
      help: 'Turns cut short, by reason (client_closed, superseded, shutdown, timeout).',
      labelNames: ['agent', 'reason'],
      registers,
    });
    this.#toolCalls = new Counter({
      name: 'vlg_tool_calls_total',
      help: 'Server-side tool calls, by tool and result (ok or the error kind).',
      labelNames: ['tool', 'result'],
      registers,
    });
    this.#hangups = new Counter({
      name: 'vlg_hangups_total',
      help: 'Turns that ended the call.',
      labelNames: ['agent'],
      registers,
    });
    this.#transfers = new Counter({
      name: 'vlg_transfers_total',
      help: 'Turns that transferred the call.',
      labelNames: ['agent'],
      registers,
    });
    this.#modelCommands = new Counter({
      name: 'vlg_model_commands_total',
      help: 'IMS commands the model wrote itself, by command and action (removed, honoured, refused).',
      labelNames: ['agent', 'command', 'action'],
      registers,
    });
    this.#keyPressesDropped = new Counter({
      name: 'vlg_key_presses_dropped_total',
      help: 'Key presses the model asked for that were not made, by reason (invalid_keys, no_keypad, keypad_limit, call_ended).',
      labelNames: ['agent', 'reason'],
      registers,
    });
    this.#admissionRejections = new Counter({
      name: 'vlg_admission_rejections_total',
      help: 'Requests refused before a turn started, by reason (the error code).',
      labelNames: ['reason'],
      registers,
    });
    this.#refusals = new Counter({
      name: 'vlg_refused_requests_total',
      help: 'Requests refused as a setup mistake (wrong or missing key, unknown model, unknown route), by reason.',
      labelNames: ['reason'],
      registers,
    });

    this.#rejectedExtendData = new Counter({
      name: 'vlg_rejected_extend_data_total',
      help: 'Requests refused with a 400 because an extendData field was invalid (sentenceId out of range, an id with control characters or too long), by field.',
      labelNames: ['field'],
      registers,
    });

    // Read from the record store and the call registry at scrape time only.
    const metrics = this;
    new Gauge({
      name: 'vlg_calls',
      help: 'Calls held in memory (barge-in, sentence order, call memory).',
      registers,
      collect() {
        this.set(metrics.#calls?.size ?? 0);
      },
    });
    new Gauge({
      name: 'vlg_call_memory_bytes',
      help: 'Approximate heap bytes held by the calls in memory (calls.maxMemoryBytes bounds it).',
      registers,
      collect() {
        this.set(metrics.#calls?.memoryBytes ?? 0);
      },
    });
    new Counter({
      name: 'vlg_call_evictions_total',
      help: "Calls forgotten, by reason: idle, memory_limit (the idlest, to stay within calls.maxMemoryBytes), call_limit, new_call (replaced by a new call under the same id), ended (the platform's callback said the call ended).",
      labelNames: ['reason'],
      registers,
      collect() {
        const totals = Object.entries(metrics.#calls?.evictions ?? {});
        for (const [reason, delta] of metrics.#evictionsSeen.deltas(totals)) this.inc({ reason: metrics.#reasons.value(reason) }, delta);
      },
    });
    new Gauge({
      name: 'vlg_shared_state_up',
      help: 'state.store redis: 1 while the replicas share call state through Redis, 0 while this replica runs on its own state (degraded).',
      labelNames: ['store'],
      registers,
      collect() {
        const state = metrics.#shared?.sharedState;
        if (state !== undefined) this.set({ store: 'redis' }, state === 'up' ? 1 : 0);
      },
    });
    new Counter({
      name: 'vlg_shared_state_fallbacks_total',
      help: "Shared call state operations done on the replica's own state instead (Redis failed, was late or was down), by operation: admit, release, begin, end, end_call.",
      labelNames: ['operation'],
      registers,
      collect() {
        const totals = Object.entries(metrics.#shared?.fallbacks ?? {});
        for (const [operation, delta] of metrics.#sharedFallbacksSeen.deltas(totals)) this.inc({ operation }, delta);
      },
    });
    new Counter({
      name: 'vlg_shared_state_remote_cancels_total',
      help: 'Turns of this replica cancelled by a newer turn of their call on another replica.',
      registers,
      collect() {
        for (const [, delta] of metrics.#remoteCancelsSeen.deltas([['all', metrics.#shared?.remoteCancels ?? 0]])) this.inc(delta);
      },
    });
    new Gauge({
      name: 'vlg_record_queue_depth',
      help: 'Turn records waiting to be written to the record store.',
      registers,
      collect() {
        this.set(metrics.#recordQueue?.queueDepth ?? 0);
      },
    });
    new Counter({
      name: 'vlg_records_dropped_total',
      help: 'Turn records dropped, by reason: queue_full (the queue was full), write_failed (the store failed), invalid_record (the store refused that record).',
      labelNames: ['reason'],
      registers,
      collect() {
        const totals = Object.entries(metrics.#recordQueue?.droppedByReason ?? {});
        for (const [reason, delta] of metrics.#droppedSeen.deltas(totals)) this.inc({ reason }, delta);
      },
    });
    new Counter({
      name: 'vlg_record_fields_truncated_total',
      help: 'Turn record fields cut to their cap (records.maxTextChars, records.maxToolRunsChars, identifiers), by field.',
      labelNames: ['field'],
      registers,
      collect() {
        const totals = [...(metrics.#recordQueue?.truncated ?? new Map<string, number>())];
        for (const [field, delta] of metrics.#truncatedSeen.deltas(totals)) this.inc({ field }, delta);
      },
    });
  }

  /** Reads the record store's queue depth and drops at each scrape (RecordStore fits). */
  trackRecordQueue(source: RecordQueueSource | undefined): void {
    this.#recordQueue = source;
    this.#droppedSeen.reset();
    this.#truncatedSeen.reset();
  }

  /** Reads the call registry's size, bytes and evictions at each scrape (CallRegistry fits). */
  trackCalls(source: CallMemorySource | undefined): void {
    this.#calls = source;
    this.#evictionsSeen.reset();
  }

  /** Reads the shared call state's health and counters at each scrape (state.store redis). */
  trackSharedState(source: SharedStateMetricsSource | undefined): void {
    this.#shared = source;
    this.#sharedFallbacksSeen.reset();
    this.#remoteCancelsSeen.reset();
  }

  /** A request refused because `extendData.<field>` was invalid. */
  countRejectedExtendData(field: string): void {
    this.#rejectedExtendData.inc({ field: EXTEND_DATA_FIELDS.has(field) ? field : OTHER });
  }

  /** A response stream began (hot path: one unlabelled gauge increment). */
  streamStarted(): void {
    this.#activeStreams.inc();
  }

  /** A response stream ended, however it ended. Call exactly once per `streamStarted`. */
  streamEnded(): void {
    this.#activeStreams.dec();
  }

  /** Records everything a finished turn tells: one call when the turn ends. */
  observeTurn(turn: TurnSummary): void {
    const agent = this.#agents.value(turn.agent);
    const provider = this.#providers.value(turn.provider);
    this.countTurn(agent, provider, turn.outcome);
    if (turn.ttftSeconds !== undefined) this.observeTtft(agent, provider, turn.ttftSeconds);
    if (turn.overheadSeconds !== undefined) this.observeOverhead(turn.overheadSeconds);

    // A target was given up (failed or skipped) before the one that committed: a fallback.
    let abandoned = false;
    for (const attempt of turn.attempts) {
      if (attempt.outcome === 'committed') {
        if (abandoned) this.countFallback(agent, attempt.provider);
        continue;
      }
      if (attempt.outcome !== 'retried') abandoned = true;
      else this.countRetry(attempt.provider);
      this.countUpstreamError(attempt.provider, attempt.errorCode ?? 'unknown');
    }
    for (const run of turn.toolRuns) this.countToolCall(run.name, run.ok ? 'ok' : (run.error ?? 'error'));
    if (turn.signal === 'hangup') this.countHangup(agent);
    else if (turn.signal === 'transfer') this.countTransfer(agent);
    if (turn.cancellation !== undefined) this.countCancellation(agent, turn.cancellation);
    for (const event of turn.modelCommands ?? []) this.countModelCommand(agent, event.command, event.action);
    for (const event of turn.keyPressesDropped ?? []) this.countKeyPressDropped(agent, event.reason);
  }

  /** `reason` comes from a fixed set (see KeyPressDropEvent). */
  countKeyPressDropped(agent: string, reason: string): void {
    this.#keyPressesDropped.inc({ agent: this.#agents.value(agent), reason: this.#reasons.value(reason) });
  }

  /** `command` and `action` come from fixed sets (see ModelCommandEvent). */
  countModelCommand(agent: string, command: string, action: string): void {
    this.#modelCommands.inc({
      agent: this.#agents.value(agent),
      command: this.#reasons.value(command),
      action: this.#reasons.value(action),
    });
  }

  countTurn(agent: string, provider: string, outcome: TurnStatus): void {
    this.#turns.inc({ agent: this.#agents.value(agent), provider: this.#providers.value(provider), outcome });
  }

  observeTtft(agent: string, provider: string, seconds: number): void {
    if (!(seconds >= 0)) return;
    this.#ttft.observe({ agent: this.#agents.value(agent), provider: this.#providers.value(provider) }, seconds);
  }

  observeOverhead(seconds: number): void {
    if (!(seconds >= 0)) return;
    this.#overhead.observe(seconds);
  }

  /** `kind` is the error code (upstream_timeout, upstream_rate_limited, circuit_open, ...). */
  countUpstreamError(provider: string, kind: string): void {
    this.#upstreamErrors.inc({ provider: this.#providers.value(provider), kind: this.#errorKinds.value(kind) });
  }

  countRetry(provider: string): void {
    this.#retries.inc({ provider: this.#providers.value(provider) });
  }

  /** `provider` is the one that answered instead of the agent's first. */
  countFallback(agent: string, provider: string): void {
    this.#fallbacks.inc({ agent: this.#agents.value(agent), provider: this.#providers.value(provider) });
  }

  countCancellation(agent: string, reason: CancellationReason): void {
    this.#cancellations.inc({ agent: this.#agents.value(agent), reason: this.#reasons.value(reason) });
  }

  /** `result` is `ok` or the error kind. */
  countToolCall(tool: string, result: string): void {
    this.#toolCalls.inc({ tool: this.#tools.value(tool), result: this.#errorKinds.value(result) });
  }

  countHangup(agent: string): void {
    this.#hangups.inc({ agent: this.#agents.value(agent) });
  }

  countTransfer(agent: string): void {
    this.#transfers.inc({ agent: this.#agents.value(agent) });
  }

  /**
   * A request refused before its turn started; `reason` is a fixed code such as the GatewayError's
   * (rate_limit_exceeded, too_many_concurrent_streams, too_many_concurrent_streams_for_key, ...).
   */
  countAdmissionRejection(reason: string): void {
    this.#admissionRejections.inc({ reason: this.#reasons.value(reason) });
  }

  /** A request refused as a setup mistake; `reason` is a fixed RefusalReason (server/refusal-log.ts). */
  countRefusal(reason: string): void {
    this.#refusals.inc({ reason: this.#reasons.value(reason) });
  }

  /** The Prometheus text exposition of this gateway's metrics and the process metrics. */
  async metricsText(): Promise<string> {
    const own = await this.registry.metrics();
    if (!this.#processMetrics) return own;
    const process = await processRegistry().metrics();
    return `${own}\n${process}`;
  }
}

/**
 * Maps a finished turn into a TurnSummary. The overhead figure is left out of turns that
 * retried or fell back (their failed attempts and backoff sleeps are not counted as upstream waits,
 * so the figure would not be the gateway's own time).
 */
export function summarizeTurn(turn: FinishedTurn): TurnSummary {
  const attempts = turn.attempts.map(
    (attempt): AttemptSummary =>
      attempt.error === undefined
        ? { provider: attempt.provider, outcome: attempt.outcome }
        : { provider: attempt.provider, outcome: attempt.outcome, errorCode: attempt.error.code },
  );
  const clean = attempts.every((attempt) => attempt.outcome === 'committed');
  const summary: TurnSummary = {
    agent: turn.agent,
    provider: turn.provider,
    outcome: turn.outcome.status,
    attempts,
    toolRuns: turn.toolRuns.map(
      (run): ToolRunSummary =>
        run.result.ok || run.result.error === undefined
          ? { name: run.call.tool.name, ok: run.result.ok }
          : { name: run.call.tool.name, ok: false, error: run.result.error },
    ),
  };
  if (turn.modelCommands.length > 0) summary.modelCommands = turn.modelCommands;
  if (turn.keyPressesDropped.length > 0) summary.keyPressesDropped = turn.keyPressesDropped;
  if (turn.firstTextAt !== undefined) summary.ttftSeconds = (turn.firstTextAt - turn.startedAt) / 1000;
  if (clean) summary.overheadSeconds = turn.overheadMs / 1000;
  if (turn.signal === 'hangup') summary.signal = 'hangup';
  else if (turn.signal?.startsWith('transfer')) summary.signal = 'transfer';
  if (turn.outcome.cancellation !== undefined) summary.cancellation = turn.outcome.cancellation;
  return summary;
}

/**
 * Turns monotonic per-label totals read from a source at scrape time into counter increments. A new
 * source (or a restarted one) counts from where it is; the counter never goes down.
 */
class MirroredTotals {
  #seen = new Map<string, number>();

  reset(): void {
    this.#seen = new Map();
  }

  /** The increase of each label since the last call (labels that did not grow are left out). */
  deltas(totals: Iterable<[string, number]>): [string, number][] {
    const result: [string, number][] = [];
    for (const [label, total] of totals) {
      const seen = this.#seen.get(label) ?? 0;
      const delta = total >= seen ? total - seen : total;
      this.#seen.set(label, total);
      if (delta > 0) result.push([label, delta]);
    }
    return result;
  }
}

/** Keeps at most `max` distinct values of one label; later ones become `other`. */
class BoundedLabel {
  readonly #max: number;
  readonly #seen = new Set<string>();

  constructor(max: number) {
    this.#max = max;
  }

  value(raw: string): string {
    if (this.#seen.has(raw)) return raw;
    if (raw === '') return 'unknown';
    if (this.#seen.size >= this.#max) return OTHER;
    this.#seen.add(raw);
    return raw;
  }
}

let sharedProcessRegistry: Registry | undefined;

/**
 * Node process metrics (CPU, memory, event-loop lag, GC, handles), collected once per process:
 * each collector installs observers that are never removed, so they are not created per gateway.
 */
function processRegistry(): Registry {
  if (sharedProcessRegistry === undefined) {
    sharedProcessRegistry = new Registry();
    collectDefaultMetrics({ register: sharedProcessRegistry });
  }
  return sharedProcessRegistry;
}
