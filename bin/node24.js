#!/usr/bin/env node
// Runs `node <args>` with a Node.js that runs TypeScript directly (>= 22.18). On an older Node it
// installs Node 24 from the npm registry into .tools/ once, then uses that one. Plain JavaScript,
// so it runs on any Node that npm runs on.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function modern(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 18);
}

function nodeBinary() {
  if (modern(process.versions.node)) return process.execPath;
  const local = join(root, '.tools', 'node_modules', '.bin', process.platform === 'win32' ? 'node.cmd' : 'node');
  if (!existsSync(local)) {
    process.stderr.write(`Node.js ${process.version} cannot run TypeScript directly; installing Node.js 24 into .tools/ (once)...\n`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const install = spawnSync(npm, ['install', '--prefix', join(root, '.tools'), '--no-save', '--no-audit', '--no-fund', 'node@24'], { stdio: 'inherit' });
    if (install.status !== 0 || !existsSync(local)) {
      process.stderr.write('Could not install Node.js 24. Install Node.js 22.18 or newer (24 LTS recommended) and try again.\n');
      process.exit(1);
    }
  }
  return local;
}

const child = spawn(nodeBinary(), process.argv.slice(2), { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
