import { Writable } from 'node:stream';

/** A stream that keeps everything written to it (CLI output, logs). */
export function textSink(): Writable & { text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return Object.assign(stream, { text: () => text });
}
