import { randomUUID } from 'node:crypto';
import { createServer, Socket, type Server } from 'node:net';
import { Redis } from 'ioredis';

export { deleteKeys } from '../../src/calls/redis/delete-keys.ts';

/** The Redis the shared-state tests use (CI starts one on the default port). */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Why the Redis tests are skipped, or false when Redis answers. */
export async function redisSkipReason(): Promise<string | false> {
  const probe = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return false;
  } catch {
    return `Redis is not reachable at ${TEST_REDIS_URL} (set REDIS_URL or start redis-server)`;
  } finally {
    probe.disconnect();
  }
}

/** A key prefix no other test run uses, so parallel runs never meet. */
export function uniquePrefix(name: string): string {
  return `vlg-test:${name}:${process.pid}:${randomUUID().slice(0, 8)}:`;
}

export function testRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
}

/**
 * A TCP proxy in front of the test Redis, to make it fail on demand: `cut` closes every
 * connection and refuses new ones (Redis down), `stall` keeps connections open but forwards
 * nothing (Redis hanging), `restore` undoes both (a stalled connection is closed: the client
 * reconnects).
 */
export interface RedisProxy {
  readonly url: string;
  cut(): Promise<void>;
  stall(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedisProxy(): Promise<RedisProxy> {
  const target = new URL(TEST_REDIS_URL);
  const sockets = new Set<Socket>();
  let stalled = false;
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    upstream.connect(Number(target.port || 6379), target.hostname);
    const forward = (from: Socket, to: Socket) => from.on('data', (data) => stalled || to.write(data));
    forward(client, upstream);
    forward(upstream, client);
    for (const socket of [client, upstream]) {
      socket.on('error', () => {});
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(socket);
      });
    }
  });
  const listen = () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  let port = 0;
  await listen();
  port = (server.address() as { port: number }).port;
  const closeServer = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  const cut = async () => {
    const closing = closeServer();
    for (const socket of sockets) socket.destroy();
    await closing;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    cut,
    stall() {
      stalled = true;
    },
    async restore() {
      // A stalled connection lost bytes: its replies would no longer match its commands.
      if (stalled) await cut();
      stalled = false;
      if (!server.listening) await listen();
    },
    close: cut,
  };
}
