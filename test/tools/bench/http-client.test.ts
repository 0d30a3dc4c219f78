import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClientAgent, followStream, type StreamRequest } from '../../../tools/bench/http-client.ts';
import { runStream, type Target } from '../../../tools/bench/load.ts';

const event = (delta: object): string => `data: ${JSON.stringify({ choices: [{ index: 0, delta }] })}\n\n`;
const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** When the server wrote the first content of each stream (same process, same clock as the client). */
const contentWrittenAt: bigint[] = [];

/** One route per behaviour, by URL path. */
async function answer(path: string, res: ServerResponse): Promise<void> {
  if (path === '/bad/chat/completions') {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"overloaded"}}');
    return;
  }
  if (path === '/silent/chat/completions') return; // never answers
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  if (path === '/hang/chat/completions') {
    res.write(event({ role: 'assistant', content: '' }));
    return; // headers and a role chunk, then nothing
  }
  if (path === '/cut/chat/completions') {
    res.write(event({ content: 'Hel' }));
    await wait(20);
    res.socket?.destroy();
    return;
  }
  // The role chunk and reasoning come first, then a content key split across two writes: the
  // first content only counts once its first character has arrived.
  res.write(event({ role: 'assistant', content: '' }) + event({ reasoning_content: 'thinking' }) + event({ content: null }));
  await wait(30);
  res.write('data: {"choices":[{"index":0,"delta":{"content":');
  await wait(30);
  contentWrittenAt.push(process.hrtime.bigint());
  res.write(`"Hello"}}]}\n\n${event({ content: ', there' })}`);
  await wait(10);
  res.end(`${event({ content: '.' })}${event({})}data: [DONE]\n\n`);
}

let server: Server;
let base: string;

before(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => void answer(req.url ?? '', res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const agent = createClientAgent(4);
after(() => agent.destroy());

const streamTo = (path: string, timeoutMs = 10_000): StreamRequest => ({
  url: new URL(`${base}${path}/chat/completions`),
  headers: { 'content-type': 'application/json' },
  body: '{"stream":true}',
  agent,
  label: 'test path',
  timeoutMs,
});

describe('the lean load client (node:http)', () => {
  it('times the first content from the bytes that hold it, and reads the stream to its end', async () => {
    const stream = await followStream(streamTo('/ok'));
    const first = await stream.firstContent;
    const text = await stream.text;
    assert.ok(first > stream.sentNs);
    assert.ok(first >= contentWrittenAt.at(-1)!, 'not before the server wrote the content (role, reasoning and null content do not count)');
    assert.match(text, /data: \[DONE\]\n\n$/);
  });

  it('gives runStream the StreamResult: TTFT, total, content events', async () => {
    const target: Target = { path: 'direct', url: `${base}/ok`, apiKey: 'k', model: 'm', extendData: false, prompt: 'hi' };
    const result = await runStream(target, agent, '42');
    assert.equal(result.contentEvents, 3, 'Hello, ", there" and "." — not the empty, null or reasoning ones');
    assert.ok(result.ttftMs > 0 && result.ttftMs <= result.totalMs);
    assert.equal(result.stamp?.tag, '42');
    assert.equal(result.stamp?.firstContentNs - result.stamp!.sentNs, BigInt(Math.round(result.ttftMs * 1e6)));
  });

  it('rejects an answer that is not 200, with its status and body', async () => {
    await assert.rejects(followStream(streamTo('/bad')), /test path: HTTP 503: \{"error":\{"message":"overloaded"\}\}/);
  });

  it('fails a stream that does not end in time, whether or not headers came', async () => {
    const hanging = await followStream(streamTo('/hang', 150));
    await assert.rejects(hanging.text, /test path: no end of stream within 150 ms/);
    await assert.rejects(hanging.firstContent, /no end of stream/);
    await assert.rejects(followStream(streamTo('/silent', 150)), /test path: no end of stream within 150 ms/);
  });

  it('fails a stream whose connection is lost before the end', async () => {
    const cut = await followStream(streamTo('/cut'));
    await cut.firstContent;
    await assert.rejects(cut.text, /test path: stream failed/);
  });

  it('destroys the connection when its signal aborts', async () => {
    const controller = new AbortController();
    const hanging = await followStream({ ...streamTo('/hang'), signal: controller.signal });
    controller.abort();
    await assert.rejects(hanging.text, /test path: stream failed/);
  });
});
