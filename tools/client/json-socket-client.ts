import type { OutgoingHttpHeaders } from 'node:http';
import { WebSocket } from 'ws';

/** One JSON event the server sent, with when it came (ms on the performance clock). */
export interface ReceivedEvent {
  event: Record<string, unknown>;
  at: number;
}

/** The upgrade was answered with an HTTP status instead of a socket. */
export class RefusedUpgrade extends Error {
  readonly status: number;

  constructor(status: number) {
    super(`the WebSocket upgrade was refused with HTTP ${status}`);
    this.status = status;
  }
}

/**
 * The platform's side of a custom-LLM WebSocket (Retell, Twilio ConversationRelay), with the `ws`
 * client: sends JSON text frames, keeps every event the server sends in order, waits for the one
 * wanted. A frame that is not a JSON object is kept too (as `{ unparsed: text }`) so the rules can
 * quote it.
 */
export class JsonSocket {
  readonly received: ReceivedEvent[] = [];
  /** Set once the socket closed: the code and reason the server (or we) closed it with. */
  closed: { code: number; reason: string; byUs: boolean } | undefined;
  private readonly socket: WebSocket;
  private closing = false;
  private waiters: Array<() => void> = [];
  private listeners: Array<(event: ReceivedEvent) => void> = [];
  private closeListeners: Array<() => void> = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      const received = { event: isBinary ? { unparsed: '(a binary frame)' } : parseEvent(text), at: performance.now() };
      this.received.push(received);
      for (const listener of this.listeners) listener(received);
      this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString('utf8'), byUs: this.closing };
      for (const listener of this.closeListeners) listener();
      this.wake();
    });
    // Errors after the open show as the close; before it, `connect` reports them.
    socket.on('error', () => undefined);
  }

  /** Opens the socket; rejects with {@link RefusedUpgrade} when the upgrade is answered with a status. */
  static connect(url: string, headers: OutgoingHttpHeaders = {}, timeoutMs = 10_000): Promise<JsonSocket> {
    const socket = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
    const client = new JsonSocket(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) => {
        response.resume();
        socket.terminate();
        reject(new RefusedUpgrade(response.statusCode ?? 0));
      });
      socket.once('error', reject);
    });
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends an event as one JSON text frame (or a raw text frame); false when the socket is not open. */
  send(event: unknown, raw = false): boolean {
    if (!this.open) return false;
    this.socket.send(raw ? String(event) : JSON.stringify(event));
    return true;
  }

  /** Called with every event from now on; returns the function that stops it. */
  onEvent(listener: (event: ReceivedEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Called once when the socket closes; returns the function that stops it. */
  onClose(listener: () => void): () => void {
    this.closeListeners.push(listener);
    return () => {
      this.closeListeners = this.closeListeners.filter((l) => l !== listener);
    };
  }

  /**
   * The first event from index `from` on that matches; undefined when none came within
   * `timeoutMs` or the socket closed first.
   */
  async next(match: (event: Record<string, unknown>) => boolean, from: number, timeoutMs: number): Promise<ReceivedEvent | undefined> {
    const deadline = performance.now() + timeoutMs;
    let checked = from;
    for (;;) {
      for (; checked < this.received.length; checked++) if (match(this.received[checked]!.event)) return this.received[checked];
      const left = deadline - performance.now();
      if (this.closed !== undefined || left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until the socket closed (or `timeoutMs` passed); whether it did. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    await this.next(() => false, this.received.length, timeoutMs);
    return this.closed !== undefined;
  }

  /** Closes the socket (1000, as a platform ends a call) and waits for the close, briefly. */
  async close(code = 1000): Promise<void> {
    if (this.closed !== undefined) return;
    this.closing = true;
    this.socket.close(code);
    if (!(await this.waitClosed(1000))) this.socket.terminate();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

function parseEvent(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // kept unparsed below
  }
  return { unparsed: text };
}

/** A ws(s) URL for a base URL given as http(s) or ws(s); undefined for any other scheme. */
export function socketUrl(base: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return undefined;
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.protocol === 'ws:' || url.protocol === 'wss:' ? url : undefined;
}
