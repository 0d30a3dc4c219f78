import { createRequire } from 'node:module';

/** One sample as parse-prometheus-text-format returns it (a real Prometheus text-format parser). */
export interface PrometheusSample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface PrometheusFamily {
  name: string;
  help: string;
  type: string;
  metrics: PrometheusSample[];
}

/** The parser ships no types; this is its documented shape. */
export const parsePrometheusText = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => PrometheusFamily[];
