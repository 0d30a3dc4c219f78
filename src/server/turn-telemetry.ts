import { buildTurnRecord } from '../store/build-turn-record.ts';
import type { PhoneLookup } from '../store/phone-lookup.ts';
import type { RecordStore } from '../store/turn-record.ts';
import type { GatewayMetrics } from '../telemetry/metrics.ts';
import { summarizeTurn } from '../telemetry/metrics.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import type { FinishedTurn, TurnReport } from '../telemetry/turn-report.ts';
import { withoutContent, type RecordContent } from '../store/content-mode.ts';
import type { LiveFeed } from './console/live-feed.ts';
import type { OperationsMetrics } from '../telemetry/operations-metrics.ts';

export interface TurnTelemetryOptions {
  metrics: GatewayMetrics | undefined;
  tracing: Tracing;
  records: RecordStore | undefined;
  maskPhoneNumbers: boolean;
  /** Hashes the full numbers into each record, for lookups by number. */
  phoneLookup?: PhoneLookup | undefined;
  /** records.content (default full). */
  content?: RecordContent;
  /** The console's live view of turns in progress. */
  live?: LiveFeed;
  operations?: OperationsMetrics;
}

/**
 * Where a turn's report goes when the turn starts and ends: the active-stream gauge, a trace span,
 * the metrics, the call record. Everything heavy happens once, at the end, off the streaming path.
 */
export class TurnTelemetry {
  private readonly options: TurnTelemetryOptions;

  constructor(options: TurnTelemetryOptions) {
    this.options = options;
  }

  started(report: TurnReport): void {
    this.options.metrics?.streamStarted();
    this.options.live?.started(report);
    const { tracing } = this.options;
    if (tracing.enabled) {
      const { call } = report;
      report.span = tracing.startTurn({
        agent: report.agent,
        stream: report.stream,
        turnId: report.id,
        ...(report.traceparent !== undefined ? { traceparent: report.traceparent } : {}),
        ...(call.instanceId !== undefined ? { instanceId: call.instanceId } : {}),
        ...(call.channelId !== undefined ? { channelId: call.channelId } : {}),
        ...(call.sentenceId !== undefined ? { sentenceId: call.sentenceId } : {}),
      });
    }
  }

  /** A request refused by admission control (429). */
  rejected(code: string): void {
    this.options.metrics?.countAdmissionRejection(code);
  }

  /** A request refused because `extendData.<field>` was invalid (400). */
  rejectedExtendData(field: string): void {
    this.options.metrics?.countRejectedExtendData(field);
  }

  /** Everything here reads the finished turn, fixed when it ended. */
  ended(turn: FinishedTurn): void {
    const { metrics, records } = this.options;
    const { outcome } = turn;
    metrics?.streamEnded();
    metrics?.observeTurn(summarizeTurn(turn));
    this.options.operations?.observeTurn(turn);
    turn.span?.end(outcome.status, outcome.status === 'error' ? outcome.errorMessage : undefined);
    const { live } = this.options;
    // No store and no console: nobody reads a record.
    if (records === undefined && live === undefined) return;
    const record = buildTurnRecord(turn, { maskPhoneNumbers: this.options.maskPhoneNumbers, phoneLookup: this.options.phoneLookup });
    live?.ended(record);
    records?.enqueue(this.options.content === 'metadata' ? withoutContent(record) : record);
  }
}
