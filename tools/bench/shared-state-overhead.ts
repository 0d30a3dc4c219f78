/**
 * What shared call state costs a turn: admission, BEGIN, END and release of one turn after
 * another (c=1), on this process's state (state.store memory) and on Redis (state.store redis).
 *
 *   node bin/node24.js tools/bench/shared-state-overhead.ts [--turns 2000] [--redis redis://127.0.0.1:6379]
 *
 * "path" is what the turn waits for before it reaches the model (admit + begin); "whole" also
 * waits until END and the release reached Redis (the gateway does not wait for those).
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { conversationOpening } from '../../src/calls/conversation-opening.ts';
import type { CallState } from '../../src/calls/call-state.ts';
import { openCallState } from '../../src/calls/open-call-state.ts';
import { gatewayConfigSchema } from '../../src/config/schema.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

const { values } = parseArgs({
  options: {
    turns: { type: 'string', default: '2000' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const turns = Number(values.turns);
const opening = conversationOpening([
  { role: 'user', content: 'hello' },
  { role: 'assistant', content: 'Hi.' },
  { role: 'user', content: 'what time is it?' },
]);
const logger = createLogger({ level: 'warn' });

async function measure(store: 'memory' | 'redis', keyPrefix: string): Promise<void> {
  const config = gatewayConfigSchema.parse({
    agents: { demo: { provider: 'demo' } },
    providers: { demo: { type: 'scripted', rules: [] } },
    server: { limits: { requestsPerMinutePerKey: 1_000_000 } },
    state: { store, url: values.redis, keyPrefix },
  });
  const { state } = await openCallState({ config, logger });
  const flush = new Redis(values.redis);
  const path: number[] = [];
  const whole: number[] = [];
  for (let i = 0; i < turns; i++) await oneTurn(state, i, path, whole, store === 'redis' ? flush : undefined);
  await state.close(new Error('done'));
  if (store === 'redis') {
    const keys = await flush.keys(`${keyPrefix}*`);
    if (keys.length > 0) await flush.del(...keys);
  }
  flush.disconnect();
  console.log(
    `${store.padEnd(6)} path p50 ${ms(path, 0.5)} p99 ${ms(path, 0.99)}   whole p50 ${ms(whole, 0.5)} p99 ${ms(whole, 0.99)}  (${turns} turns)`,
  );
}

async function oneTurn(state: CallState, i: number, path: number[], whole: number[], flush: Redis | undefined): Promise<void> {
  const started = performance.now();
  const admitted = state.admit('key-1');
  const ticket = admitted instanceof Promise ? await admitted : admitted;
  const beginning = state.beginTurn({
    id: `key-1\ninstance\nbench-${i % 50}`,
    controller: new AbortController(),
    idleMs: 60_000,
    sentenceId: i,
    opening,
    keepTranscript: true,
  });
  const turn = beginning instanceof Promise ? await beginning : beginning;
  path.push(performance.now() - started);
  turn?.remember([{ role: 'user', content: 'what time is it?' }], 'It is noon.');
  turn?.end();
  ticket.release();
  if (flush) await flush.ping(); // END and the release were written before this PING, on another connection: close enough.
  whole.push(performance.now() - started);
}

function ms(samples: number[], q: number): string {
  const sorted = [...samples].sort((x, y) => x - y);
  return `${sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(3)} ms`;
}

await measure('memory', 'unused:');
await measure('redis', `vlg-bench:${randomUUID().slice(0, 8)}:`);
