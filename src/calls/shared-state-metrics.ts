/** What a shared call state reports about itself, read by the metrics at each scrape. */
export interface SharedStateMetricsSource {
  readonly sharedState: 'up' | 'degraded' | undefined;
  /** Operations done on the replica's own state instead of Redis, since start, by operation. */
  readonly fallbacks: Readonly<Record<string, number>>;
  /** Turns of this replica cancelled by a newer turn of their call on another replica (monotonic). */
  readonly remoteCancels: number;
}
