import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CircuitState } from '../providers/circuit-breaker.ts';
import type { FinishedTurn } from './turn-report.ts';

/** What becomes of an IMS callback. */
export type CallbackResult = 'accepted' | 'duplicate' | 'refused' | 'invalid' | 'failed';

export interface OperationsSources {
  /** Records written so far (the record store's counter). */
  recordsWritten: () => number;
  /** Every provider's circuit breaker state. */
  breakers: () => Iterable<{ provider: string; state: CircuitState }>;
}

const BREAKER_STATES: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 };
const MAX_PROVIDERS = 200;

/**
 * The metrics operators asked for next to GatewayMetrics, on its registry: records written,
 * IMS callbacks by result, each upstream attempt's latency by provider, circuit breaker states.
 */
export class OperationsMetrics {
  readonly #callbacks: Counter<'result'>;
  readonly #upstreamLatency: Histogram<'provider' | 'outcome'>;
  readonly #providers = new Set<string>();

  constructor(registry: Registry, sources: OperationsSources) {
    const registers = [registry];
    let written = 0;
    new Counter({
      name: 'vlg_records_written_total',
      help: 'Turn records written to the record store.',
      registers,
      collect() {
        const now = sources.recordsWritten();
        if (now > written) this.inc(now - written);
        written = now;
      },
    });
    this.#callbacks = new Counter({
      name: 'vlg_callbacks_total',
      help: 'IMS event callbacks by result: accepted, duplicate (already stored), refused (bad token), invalid (bad body), failed (records unavailable).',
      labelNames: ['result'],
      registers,
    });
    this.#upstreamLatency = new Histogram({
      name: 'vlg_upstream_latency_seconds',
      help: "Each upstream attempt, from its request to its outcome (the first speakable part when committed), by provider and the attempt's outcome.",
      labelNames: ['provider', 'outcome'],
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
      registers,
    });
    new Gauge({
      name: 'vlg_circuit_breaker_state',
      help: "Each provider's circuit breaker: 0 closed, 1 half-open (probing), 2 open (skipped).",
      labelNames: ['provider'],
      registers,
      collect() {
        for (const { provider, state } of sources.breakers()) this.set({ provider }, BREAKER_STATES[state]);
      },
    });
  }

  countCallback(result: CallbackResult): void {
    this.#callbacks.inc({ result });
  }

  /** Once per finished turn, off the streaming path. */
  observeTurn(turn: FinishedTurn): void {
    for (const attempt of turn.attempts) {
      if (attempt.outcome === 'skipped') continue;
      this.#upstreamLatency.observe({ provider: this.#provider(attempt.provider), outcome: attempt.outcome }, attempt.ms / 1000);
    }
  }

  /** Provider names come from the config, but a bound keeps a mistake from growing the registry. */
  #provider(name: string): string {
    if (this.#providers.has(name)) return name;
    if (this.#providers.size >= MAX_PROVIDERS) return 'other';
    this.#providers.add(name);
    return name;
  }
}
