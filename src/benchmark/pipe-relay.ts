/**
 * A minimal pass-through relay: the floor any relay pays for one more process and one more hop.
 * Nothing is parsed or rewritten; request and response bytes are piped as they come. Upstream
 * connections are pooled without a limit and kept alive, like the gateway's.
 */

import { Agent as HttpAgent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Idle keep-alive connections (from clients, and to the upstream) are kept this long. */
const KEEP_ALIVE_MS = 120_000;
/** Listen backlog: a burst of 1024+ new connections must not overflow the accept queue. */
const BACKLOG = 8192;

export interface PipeRelay {
  /** Base URL ending in /v1. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the relay in front of `upstreamUrl` (its base URL, e.g. http://127.0.0.1:PORT/v1). */
export async function startPipeRelay(upstreamUrl: string): Promise<PipeRelay> {
  const target = new URL(upstreamUrl);
  const agent = new HttpAgent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: Infinity, maxFreeSockets: 1 << 16, timeout: KEEP_ALIVE_MS });
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', (err) => res.destroy(err));
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
}
