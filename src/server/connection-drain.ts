import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

/**
 * The connections of a draining replica, so that a load balancer moves on without a failed turn.
 * The listener closes: a balancer's new connection is refused before anything was sent, so it
 * tries another replica and marks this one down (nginx: `proxy_next_upstream error`,
 * `max_fails`). Connections already open stay open, because closing one while the balancer
 * sends a request on it fails that request (nginx never resends a POST it sent): a request that
 * arrives on one is answered with `Connection: close`, and a connection busy with a response
 * begun before the drain is ended after it. The drain is over once the balancer has used up or
 * dropped every connection.
 */
export class ConnectionDrain {
  readonly #server: Server;
  #draining = false;
  readonly #sockets = new Set<Socket>();
  /** Responses in progress, to end their connection once they finish if a drain starts. */
  readonly #busy = new Set<ServerResponse>();
  #onEmpty: (() => void) | undefined;

  constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        if (this.#sockets.size === 0) this.#onEmpty?.();
      });
    });
    // Before the application's listener, which may write its headers at once.
    server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
      if (this.#draining) {
        if (!response.headersSent) response.setHeader('connection', 'close');
        return;
      }
      this.#busy.add(response);
      response.once('close', () => this.#busy.delete(response));
    });
  }

  /** Stops taking connections; resolves once every open one has closed, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    if (!this.#draining) {
      this.#draining = true;
      // net's close, not http's: http's also closes idle keep-alive connections, which a balancer
      // may be sending a request on at that very moment.
      if (this.#server.listening) NetServer.prototype.close.call(this.#server);
      for (const response of this.#busy) {
        const socket = response.socket;
        response.once('finish', () => socket?.end());
      }
      this.#busy.clear();
    }
    if (this.#sockets.size === 0 || !(timeoutMs > 0)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#onEmpty = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
