#!/usr/bin/env node
// Runs `node <args>` with a Node.js that can run the gateway and its TypeScript sources: this one,
// or else the Node.js 24 that `npm ci` installed from the lockfile (see node-runtime.js). The npm
// scripts start with it; it never installs anything. Plain JavaScript, so it runs on any Node that
// npm runs on.
import { runWithNode } from './node-runtime.js';

runWithNode(process.argv.slice(2));
