import type { OutgoingHttpHeaders } from 'node:http';
import { WebSocket } from 'ws';

type Message = Record<string, any>;

/** A platform's side of a gateway socket, with the `ws` client: sends JSON events, waits for the gateway's. */
export class SocketClient {
  /** Every event the gateway sent, in order. */
  readonly received: Message[] = [];
  /** The close code, once closed. */
  closeCode: number | undefined;
  private readonly socket: WebSocket;
  private waiters: Array<() => void> = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as Message);
      this.wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  /** Opens the socket; rejects with the HTTP status when the upgrade is refused. */
  static connect(url: string, headers: OutgoingHttpHeaders = {}): Promise<SocketClient> {
    const socket = new WebSocket(url, { headers });
    const client = new SocketClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) => reject(new RefusedUpgrade(response.statusCode ?? 0)));
      socket.once('error', reject);
    });
  }

  send(event: unknown): void {
    this.socket.send(JSON.stringify(event));
  }

  /** Resolves with the first event received (from `from` on) that matches; fails after `timeoutMs`. */
  async next(match: (event: Message) => boolean, from = 0, timeoutMs = 5000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.slice(from).find(match);
      if (found) return found;
      if (this.closeCode !== undefined) throw new Error(`the socket closed (${this.closeCode}) before the event came`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; received ${JSON.stringify(this.received.slice(from))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.close(1000);
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

export class RefusedUpgrade extends Error {
  readonly status: number;

  constructor(status: number) {
    super(`the upgrade was refused with HTTP ${status}`);
    this.status = status;
  }
}
