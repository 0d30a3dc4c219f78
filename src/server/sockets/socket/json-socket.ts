import type { RawData, WebSocket } from 'ws';

/** Sends events as JSON text frames while the socket is open; an event for a socket already gone is dropped. */
export function jsonSender<T>(socket: WebSocket): (event: T) => void {
  return (event) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(event));
  };
}

/** Calls `receive` with each text frame (binary frames are no platform's messages) and `close` once. */
export function onTextFrames(socket: WebSocket, receive: (frame: string) => void, close: () => void): void {
  socket.on('message', (data, isBinary) => {
    if (!isBinary) receive(textOf(data));
  });
  socket.once('close', close);
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}

/** A text frame's JSON; undefined for one that is not JSON (ignored like any message the platform's schema does not know). */
export function parseFrame(frame: string): unknown {
  try {
    return JSON.parse(frame);
  } catch {
    return undefined;
  }
}
