#!/usr/bin/env node
// The full command line: the gateway's (src/cli/run-cli.ts) plus the tools' commands. The gateway
// never imports this folder; the tools depend on it, never the other way round.
import { runCli } from '../../src/cli/run-cli.ts';
import { runBench } from './commands/bench.ts';
import { runCheck } from './commands/check.ts';
import { runSimulate } from './commands/simulate.ts';

// Not awaited at the top level, like src/cli/main.ts.
void runCli(process.argv.slice(2), {
  simulate: {
    summary: 'Rehearse a call as the Alibaba IMS workflow or another platform would make it (see: simulate --help)',
    run: (args) => runSimulate(args),
  },
  check: { summary: 'Check any custom-LLM server against the protocol and strict stream rules', run: (args) => runCheck(args) },
  bench: {
    summary: 'Measure the gateway against a direct connection (TTFT, throughput, CPU, memory, cancellation)',
    run: (args) => runBench(args),
  },
});
