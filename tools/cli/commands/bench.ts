/**
 * `voice-llm-gateway bench`: what a voice call pays for going through the gateway — TTFT,
 * throughput, CPU and memory per stream, and cancellation latency, against going direct and
 * through a bare pipe relay, across a concurrency sweep. The implementation lives in
 * tools/bench/ (run-bench.ts is the entry point); BENCH_USAGE documents every option.
 */

import { BENCH_USAGE, BenchError, parseSettings, UsageError } from '../../bench/settings.ts';

export { BENCH_USAGE };

/** Runs the bench with the arguments after `bench`; resolves with the process exit code. */
export async function runBench(argv: string[]): Promise<number> {
  let settings: ReturnType<typeof parseSettings>;
  try {
    settings = parseSettings(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`voice-llm-gateway bench: ${err.message}\n\n${BENCH_USAGE}`);
    return 2;
  }
  if (settings === 'help') {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  try {
    // Loaded only when the bench runs: importing this module (as the CLI does) costs next to nothing.
    const { runBenchmark } = await import('../../bench/run-bench.ts');
    return await runBenchmark(settings);
  } catch (err) {
    const message = err instanceof BenchError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`voice-llm-gateway bench failed: ${message}\n`);
    return 1;
  }
}
