/**
 * The bench's lean load client: one streamed POST over `node:http` on a keep-alive `http.Agent`,
 * its body scanned chunk by chunk for the first non-empty `content` delta (tools/bench/sse-scan.ts).
 * No per-stream AbortSignal, no body stream wrapper: at 64 and more concurrent streams the client
 * shares the machine's cores with what it measures, so every microsecond it spends is one the
 * servers do not get.
 *
 * Times are `process.hrtime.bigint()` (CLOCK_MONOTONIC on Linux), the clock the mock upstream
 * stamps its side with, so the two can be subtracted across processes.
 */

import { Agent, request, type IncomingMessage } from 'node:http';
import { BenchError } from './settings.ts';
import { findContent, rescanFrom } from './sse-scan.ts';

/** An HTTP/1.1 keep-alive pool allowing `connections` sockets per origin. */
export function createClientAgent(connections: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, scheduling: 'lifo' });
}

export interface StreamRequest {
  /** The full URL to POST to (…/chat/completions). */
  url: URL;
  headers: Record<string, string>;
  body: string;
  agent: Agent;
  /** Names the path in errors. */
  label: string;
  /** The stream fails (its connection destroyed) if it has not ended by then. */
  timeoutMs: number;
  /** Aborting destroys the connection (cancellation runs, held streams). */
  signal?: AbortSignal;
}

export interface FollowedStream {
  /** When the request was handed to node:http. */
  sentNs: bigint;
  /** Resolves at the first received bytes holding non-empty content; rejects if the stream ends or fails before. */
  firstContent: Promise<bigint>;
  /** The whole body (latin1) once it ended; rejects if it failed. */
  text: Promise<string>;
}

/** Bytes of an error answer kept for the message. */
const ERROR_BODY_CHARS = 300;

/**
 * Sends one streamed request and follows its body. Rejects on a failed request or a non-200 answer;
 * both promises of the result are safe to leave unawaited.
 */
export function followStream(options: StreamRequest): Promise<FollowedStream> {
  const { url, label } = options;
  const body = Buffer.from(options.body, 'utf8');
  return new Promise<FollowedStream>((resolveStream, rejectStream) => {
    let settleFirst!: (result: bigint | Error) => void;
    let settleText!: (result: string | Error) => void;
    const firstContent = new Promise<bigint>((resolve, reject) => {
      settleFirst = (result) => (typeof result === 'bigint' ? resolve(result) : reject(result));
    });
    const text = new Promise<string>((resolve, reject) => {
      settleText = (result) => (typeof result === 'string' ? resolve(result) : reject(result));
    });
    firstContent.catch(() => undefined);
    text.catch(() => undefined);

    let responded = false;
    let done = false;
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!responded) rejectStream(err);
      settleFirst(err);
      settleText(err);
    };

    const sentNs = process.hrtime.bigint();
    const req = request(
      {
        agent: options.agent,
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...options.headers, 'content-length': String(body.length) },
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          readError(res, label, fail);
          return;
        }
        responded = true;
        resolveStream({ sentNs, firstContent, text });
        let all = '';
        let scanFrom = 0;
        let seen = false;
        res.on('data', (chunk: Buffer) => {
          all += chunk.toString('latin1');
          if (seen) return;
          if (findContent(all, scanFrom) >= 0) {
            seen = true;
            settleFirst(process.hrtime.bigint());
          } else scanFrom = rescanFrom(all);
        });
        res.once('end', () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          // An Error (and its stack) only when one is needed: the common stream makes none.
          if (!seen) settleFirst(new BenchError(`${label}: stream ended before any content: ${all.slice(0, ERROR_BODY_CHARS)}`));
          settleText(all);
        });
        // A connection lost mid-answer closes the response without an 'end'.
        res.once('close', () => {
          if (!done) fail(new BenchError(`${label}: stream failed: the connection closed before the answer ended`));
        });
        res.once('error', (err: Error) => fail(new BenchError(`${label}: stream failed: ${err.message}`)));
      },
    );
    const timer = setTimeout(() => {
      fail(new BenchError(`${label}: no end of stream within ${options.timeoutMs} ms`));
      req.destroy();
    }, options.timeoutMs);
    req.once('error', (err: Error) =>
      fail(err instanceof BenchError ? err : new BenchError(`${label}: ${responded ? 'stream' : 'request'} failed: ${err.message}`)),
    );
    req.end(body);
  });
}

/** Reads a non-200 answer's start and fails the stream with it. */
function readError(res: IncomingMessage, label: string, fail: (err: Error) => void): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    if (text.length < ERROR_BODY_CHARS) text += chunk;
  });
  const end = (): void => fail(new BenchError(`${label}: HTTP ${res.statusCode}: ${text.slice(0, ERROR_BODY_CHARS)}`));
  res.once('end', end);
  res.once('close', end);
}
