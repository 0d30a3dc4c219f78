/**
 * `npm run bench`: the same as `voice-llm-gateway bench` (src/cli/commands/bench.ts; the
 * implementation is in tools/bench/). Options: `npm run bench -- --help`.
 */

import { runBench } from '../cli/commands/bench.ts';

process.exitCode = await runBench(process.argv.slice(2));
