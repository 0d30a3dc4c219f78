#!/usr/bin/env node
// The gateway's command line without the tools (`npm start` runs it). The full one, with simulate,
// check and bench, is tools/cli/main.ts.
import { runCli } from './run-cli.ts';

// Not awaited at the top level: a command that leaves nothing pending simply ends (no exit code 13).
void runCli(process.argv.slice(2));
