import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { newStreamedTurn, turnEventParser } from '../../tools/client/stream-chat.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { startGateway, type RunningGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

export const TEST_KEY = 'test-key-0123456789';
export const TEST_ADMIN_KEY = 'test-admin-key-9876543210';

export interface TestGateway extends RunningGateway {
  /** The data folder (keys, SQLite records), removed on close. */
  dataDir: string;
  /** Every log line written so far, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Raw log text (to check that no secret ever appears). */
  logText(): string;
  post(path: string, body: unknown, init?: { headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response>;
}

/** Starts the real gateway on a free port with a config object (defaults applied by the schema). */
export async function startTestGateway(rawConfig: Record<string, unknown>, options: { databaseUrl?: string } = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vlg-test-'));
  const server = { apiKeys: [TEST_KEY], dataDir, ...(rawConfig.server as Record<string, unknown> | undefined) };
  const admin = { apiKeys: [TEST_ADMIN_KEY], ...(rawConfig.admin as Record<string, unknown> | undefined) };
  const config = parseConfig({ ...rawConfig, server, admin }, process.env, 'test config');
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  // Records go to SQLite in the test's data folder unless a test asks for PostgreSQL.
  const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logger, databaseUrl: options.databaseUrl });
  return {
    ...gateway,
    dataDir: config.server.dataDir,
    get logs() {
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => text,
    post: (path, body, init = {}) =>
      fetch(gateway.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}`, ...init.headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...(init.signal ? { signal: init.signal } : {}),
      }),
    async close(drainTimeoutMs = 200) {
      await gateway.close(drainTimeoutMs);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ParsedStream {
  /** Each `data:` payload other than [DONE], parsed. */
  chunks: Array<Record<string, any>>;
  sawDone: boolean;
  /** Whether anything followed [DONE]. */
  afterDone: string[];
  text: string;
}

/** Reads a whole SSE response body with the project's own turn parser (eventsource-parser). */
export async function readStream(response: Response): Promise<ParsedStream> {
  const turn = newStreamedTurn();
  const parser = turnEventParser(turn, () => 0);
  const decoder = new TextDecoder();
  for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(piece, { stream: true }));
  }
  const done = turn.events.findIndex((event) => event.data === '[DONE]');
  return {
    chunks: turn.chunks as Array<Record<string, any>>,
    sawDone: turn.sawDone,
    afterDone: done < 0 ? [] : turn.events.slice(done + 1).map((event) => event.data),
    text: turn.text,
  };
}

/** A chat request as the IMS workflow sends it. */
export function imsRequest(model: string, userText: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model,
    stream: true,
    messages: [{ role: 'user', content: userText }],
    extendData: { instanceId: 'inst-1', channelId: 'chan-1', sentenceId: '1', userData: '{"vip":true}' },
    ...extra,
  };
}
