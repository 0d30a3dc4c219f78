import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** This environment less what would change the gateway's configuration or npm's behaviour. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(UPSTREAM_|GATEWAY_|PORT$|DATABASE_URL$|REDIS_URL$|npm_)/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Collects a started server's output until its banner names its URL. */
export async function waitForBanner(child: ChildProcess, timeoutMs = 20_000): Promise<{ url: string; output: () => string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const url = /Voice LLM Gateway listening on .*?(http:\/\/\S+)\/v1/.exec(output)?.[1];
    if (url !== undefined) return { url, output: () => output };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      assert.fail(`the server did not start:\n${output}`);
    }
    await sleep(20);
  }
}

/** SIGKILLs the process group of a child spawned with `detached: true`, if it is still there. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}
