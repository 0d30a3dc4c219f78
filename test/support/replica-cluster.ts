import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Gateway replicas as users run them (`voice-llm-gateway serve`, one process each, on fixed ports
 * so a replacement can take a stopped one's place) behind a real nginx configured with the
 * project's deploy/nginx/proxy.conf, round-robin, keep-alive to the replicas.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/voice-llm-gateway.js');
export const PROXY_CONF = join(ROOT, 'deploy/nginx/proxy.conf');
const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

/** Why the nginx tests are skipped, or false when nginx runs here. */
export function nginxSkipReason(): string | false {
  const probe = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return probe.status === 0 ? false : `nginx is not installed at ${NGINX} (apt-get install nginx-light, or set NGINX_BIN)`;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(UPSTREAM_|GATEWAY_|PORT$|npm_|DATABASE_URL$|REDIS_URL$)/.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

export interface Replica {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** The SQLite records file of this replica (when no DATABASE_URL). */
  readonly recordsFile: string;
  readonly exit: Promise<number | null>;
  output(): string;
}

/**
 * Starts `voice-llm-gateway serve` with `config` (written as JSON, which YAML reads) on `port` and
 * waits for its banner. `name` names its data folder: a replacement of a replica reuses it.
 */
export async function startReplica(
  dir: string,
  name: string,
  port: number,
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<Replica> {
  const dataDir = join(dir, name);
  mkdirSync(dataDir, { recursive: true });
  const configFile = join(dir, `${name}.yaml`);
  const server = { ...(config.server as Record<string, unknown>), dataDir };
  writeFileSync(configFile, JSON.stringify({ ...config, server }));
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--port', String(port), '--host', '127.0.0.1'], {
    cwd: dir,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!/Voice LLM Gateway listening on /.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`replica ${name} did not start:\n${output}`);
    }
    await sleep(20);
  }
  return { port, url: `http://127.0.0.1:${port}`, child, recordsFile: join(dataDir, 'records.db'), exit, output: () => output };
}

/** SIGKILL unless it already exited; waits for the exit. */
export async function killReplica(replica: Replica | undefined): Promise<void> {
  if (!replica || replica.child.exitCode !== null || replica.child.signalCode !== null) return;
  replica.child.kill('SIGKILL');
  await replica.exit;
}

export interface Nginx {
  readonly url: string;
  readonly child: ChildProcess;
  /** Its error log so far (what it said about the replicas). */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * nginx in front of `ports`: the documented SSE settings (deploy/nginx/proxy.conf, included as
 * is) in a round-robin upstream with keep-alive, as deploy/nginx/compose.conf, on a free port.
 */
export async function startNginx(dir: string, ports: number[]): Promise<Nginx> {
  const prefix = join(dir, 'nginx');
  mkdirSync(prefix, { recursive: true });
  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, temp), { recursive: true });
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    [
      // As root, workers would run as nobody and could not use the temp folders made here.
      process.getuid?.() === 0 ? 'user root;' : '',
      'worker_processes 1;',
      `error_log ${join(prefix, 'error.log')} warn;`,
      'events { worker_connections 1024; }',
      'http {',
      `  access_log ${join(prefix, 'access.log')};`,
      ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (temp) => `  ${temp === 'body' ? 'client_body' : temp}_temp_path ${join(prefix, temp)};`,
      ),
      '  upstream voice_llm_gateway {',
      ...ports.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=10s;`),
      '    keepalive 16;',
      '    keepalive_timeout 5s;',
      '  }',
      '  server {',
      `    listen 127.0.0.1:${port};`,
      '    location / {',
      `      include ${PROXY_CONF};`,
      '      proxy_pass http://voice_llm_gateway;',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(NGINX, ['-p', prefix, '-c', conf, '-g', `daemon off; pid ${join(prefix, 'nginx.pid')};`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const errorLog = () => {
    try {
      return readFileSync(join(prefix, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  for (const deadline = Date.now() + 10_000; ; await sleep(50)) {
    if (child.exitCode !== null) throw new Error(`nginx did not start:\n${output}\n${errorLog()}`);
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`nginx did not listen on ${url}:\n${output}\n${errorLog()}`);
      }
    }
  }
  return {
    url,
    child,
    errorLog,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM: the master stops its worker (a SIGKILLed master would leave the worker running).
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** A folder for one test's replicas and nginx, removed by `remove`. */
export function clusterDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vlg-replicas-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
