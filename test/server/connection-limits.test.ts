import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, TEST_KEY } from '../support/gateway-harness.ts';

const AGENT = { providers: { s: { type: 'scripted' } }, agents: { agent: { provider: 's' } } };

/** A raw client socket: what it received, and whether the server closed it. */
async function open(url: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  const closed = once(socket, 'close').then(() => undefined);
  await once(socket, 'connect');
  return { socket, received: () => received, closed };
}

const within = (ms: number, promise: Promise<void>) => Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

describe('client connection limits', () => {
  it('closes the connection after a 401, so no unauthenticated keep-alive stays open', async () => {
    const gateway = await startTestGateway(AGENT);
    try {
      const client = await open(gateway.url);
      client.socket.write('GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n\r\n');
      assert.ok(await within(2000, client.closed), 'the server closed the socket');
      assert.match(client.received(), /^HTTP\/1\.1 401 /);
      assert.match(client.received(), /connection: close/i);

      // An authenticated client keeps its connection.
      const good = await open(gateway.url);
      good.socket.write(`GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_KEY}\r\n\r\n`);
      assert.equal(await within(500, good.closed), false);
      assert.match(good.received(), /^HTTP\/1\.1 200 /);
      good.socket.destroy();
    } finally {
      await gateway.close();
    }
  });

  it('closes connections over server.limits.maxConnections on arrival and counts them', async () => {
    const gateway = await startTestGateway({ ...AGENT, server: { limits: { maxConnections: 2 } } });
    try {
      const held = [await open(gateway.url), await open(gateway.url)];
      const third = await open(gateway.url);
      assert.ok(await within(2000, third.closed), 'the third connection is closed');
      for (const client of held) assert.equal(await within(100, client.closed), false, 'the first two stay open');
      for (const client of held) client.socket.destroy();
      await sleep(100);
      const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
      assert.match(metrics, /vlg_admission_rejections_total\{reason="too_many_connections"\} 1/);
    } finally {
      await gateway.close();
    }
  });
});
