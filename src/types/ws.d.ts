/**
 * The part of the `ws` package's API the gateway and its tests use (the package ships no types,
 * and @types/ws is not installed): the socket @fastify/websocket hands a route, and the client.
 */
declare module 'ws' {
  import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

  type RawData = Buffer | ArrayBuffer | Buffer[];

  interface ClientOptions {
    headers?: OutgoingHttpHeaders;
    handshakeTimeout?: number;
  }

  interface ServerOptions {
    maxPayload?: number;
    noServer?: boolean;
  }

  class WebSocket {
    constructor(address: string | URL, options?: ClientOptions);
    static readonly OPEN: 1;
    readonly CONNECTING: 0;
    readonly OPEN: 1;
    readonly CLOSING: 2;
    readonly CLOSED: 3;
    readonly readyState: 0 | 1 | 2 | 3;
    send(data: string | Buffer, callback?: (error?: Error) => void): void;
    close(code?: number, reason?: string): void;
    terminate(): void;
    on(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this;
    on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    on(event: 'open', listener: () => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'unexpected-response', listener: (request: ClientRequest, response: IncomingMessage) => void): this;
    once(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this;
    once(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    once(event: 'open', listener: () => void): this;
    once(event: 'error', listener: (error: Error) => void): this;
    once(event: 'unexpected-response', listener: (request: ClientRequest, response: IncomingMessage) => void): this;
    off(event: string, listener: (...args: never[]) => void): this;
  }

  class WebSocketServer {
    constructor(options?: ServerOptions);
    readonly clients: Set<WebSocket>;
    close(callback?: (error?: Error) => void): void;
  }

  export { WebSocket, WebSocketServer, WebSocketServer as Server, type ClientOptions, type RawData, type ServerOptions };
  export default WebSocket;
}
