#!/usr/bin/env node
// The `voice-llm-gateway` command. Plain JavaScript, so it runs on any Node that npm runs on: with a
// Node.js that meets `engines` it runs the gateway in this process, else it re-runs itself with the
// Node.js 24 of the lockfile (see node-runtime.js), passing signals on and exiting with its status.
//
// A checkout runs the TypeScript sources (Node.js strips the types); an installed package has no
// src/ but the JavaScript that `npm run build` wrote to dist/ (Node.js strips no types under
// node_modules). Sources first, so a dist/ left over from a build never runs stale code.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runsHere, runWithNode } from './node-runtime.js';

const source = new URL('../src/cli/main.ts', import.meta.url);
const entry = existsSync(source) ? source : new URL('../dist/cli/main.js', import.meta.url);

if (runsHere()) await import(entry.href);
else runWithNode([fileURLToPath(entry), ...process.argv.slice(2)]);
