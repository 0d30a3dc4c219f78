import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Keep-alive long enough for a whole sweep; a listen queue deep enough for 1024 new connections. */
export const KEEP_ALIVE_MS = 120_000;
const BACKLOG = 8192;

export interface LocalServer {
  port: number;
  /** Stops listening and destroys every connection, idle or not. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (a free port) and tracks connections so closing never waits on a client. */
export async function listenLocal(server: Server): Promise<LocalServer> {
  const sockets = new Set<Socket>();
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
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
