/**
 * A minimal pass-through relay: the floor any relay pays for one more process and one more hop.
 * Nothing is parsed or rewritten; request and response bytes are piped as they come. Upstream
 * connections are pooled without a limit and kept alive, like the gateway's.
 */

import { Agent as HttpAgent, createServer, request as httpRequest, type Server } from 'node:http';
import { KEEP_ALIVE_MS, listenLocal } from './local-server.ts';

export interface PipeRelay {
  /** Base URL ending in /v1. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the relay in front of `upstreamUrl` (its base URL, e.g. http://127.0.0.1:PORT/v1). */
export async function startPipeRelay(upstreamUrl: string): Promise<PipeRelay> {
  const target = new URL(upstreamUrl);
  const agent = new HttpAgent({
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxSockets: Infinity,
    maxFreeSockets: 1 << 16,
    timeout: KEEP_ALIVE_MS,
  });
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
  const local = await listenLocal(server);
  return {
    url: `http://127.0.0.1:${local.port}/v1`,
    async close() {
      agent.destroy();
      await local.close();
    },
  };
}
