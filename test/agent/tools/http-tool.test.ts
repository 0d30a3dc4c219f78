import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { httpToolSchema, type HttpToolConfig } from '../../../src/config/schema.ts';
import {
  closeHttpToolDispatcher,
  runHttpTool,
  toolCallContext,
  toolDefinition,
  TRUNCATION_MARKER,
  type ToolCallContext,
} from '../../../src/agent/tools/http-tool.ts';

/** Every test is bounded: a hang fails the test instead of stalling the run. */
const BOUNDED = { timeout: 5_000 };
const SECRET = 'tool-secret-0123456789';

interface Seen {
  method: string;
  url: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The client closed the connection before the response was finished. */
  closedEarly: boolean;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let origin: string;
let dispatcher: Agent;
const seen: Seen[] = [];
const routes = new Map<string, Handler>();

function requestsTo(path: string): Seen[] {
  return seen.filter((request) => request.path === path);
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function tool(overrides: Partial<HttpToolConfig> & { url: string }): HttpToolConfig {
  return httpToolSchema.parse({
    name: 'lookup_order',
    description: 'Look up an order.',
    headers: { 'X-Api-Key': SECRET },
    ...overrides,
  });
}

const context: ToolCallContext = {
  instanceId: 'inst-1',
  channelId: 'chan-7',
  sentenceId: 3,
  callerNumber: '+8613800000000',
  calleeNumber: '4001234567',
  userData: { name: 'Li', vip: true },
  userDataRaw: '{"name":"Li","vip":true}',
};

const live = (): AbortSignal => new AbortController().signal;

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '';
      const path = url.split('?', 1)[0] ?? '';
      const record: Seen = {
        method: req.method ?? '',
        url,
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        closedEarly: false,
      };
      seen.push(record);
      res.on('close', () => {
        if (!res.writableFinished) record.closedEarly = true;
      });
      const handler = routes.get(path);
      if (handler) handler(req, res);
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('no such route');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dispatcher = new Agent({ keepAliveTimeout: 1_000 });

  routes.set('/echo', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"shipped","eta":"tomorrow"}');
  });
  routes.set('/big', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(100_000));
  });
  routes.set('/euro', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('€'.repeat(1_000));
  });
  routes.set('/endless', (_req, res) => {
    // 10 KB at once, then the body never ends.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('y'.repeat(10_000));
  });
  routes.set('/fail', (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`database   down\n${'z'.repeat(2_000)}`);
  });
  routes.set('/unavailable', (_req, res) => {
    res.writeHead(503).end();
  });
  routes.set('/empty', (_req, res) => {
    res.writeHead(204).end();
  });
  routes.set('/hang', () => {
    // Never answers.
  });
  routes.set('/stall-body', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"partial":');
  });
});

after(async () => {
  await dispatcher.close();
  await closeHttpToolDispatcher();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('toolDefinition', () => {
  it('is the OpenAI tools[] entry of the configured function', () => {
    const parameters = { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] };
    assert.deepEqual(toolDefinition(tool({ url: `${origin}/echo`, parameters })), {
      type: 'function',
      function: { name: 'lookup_order', description: 'Look up an order.', parameters },
    });
  });
});

describe('toolCallContext', () => {
  it('takes the call fields from the call metadata', () => {
    assert.deepEqual(toolCallContext({ instanceId: 'i', callerNumber: '1', sentenceId: 2, userDataRaw: 'x', userDataInvalid: true }), {
      instanceId: 'i',
      callerNumber: '1',
      sentenceId: 2,
      userDataRaw: 'x',
    });
  });
});

describe('runHttpTool', () => {
  it('POSTs the arguments and the call context as JSON, with the configured and x-voice headers', BOUNDED, async () => {
    const result = await runHttpTool(
      tool({ url: `${origin}/echo?tenant=a` }),
      '{"orderId":"A-17","items":[1,2]}',
      { ...context, calleeNumber: '客服' },
      live(),
      dispatcher,
    );
    assert.equal(result.ok, true);
    assert.equal(result.status, 200);
    assert.equal(result.error, undefined);
    assert.equal(result.content, '{"status":"shipped","eta":"tomorrow"}');
    assert.ok(result.durationMs >= 0 && result.durationMs < 2_000);

    const [request, ...more] = requestsTo('/echo');
    assert.equal(more.length, 0);
    assert.equal(request!.method, 'POST');
    assert.equal(request!.url, '/echo?tenant=a');
    assert.deepEqual(JSON.parse(request!.body), {
      arguments: { orderId: 'A-17', items: [1, 2] },
      call: {
        instanceId: 'inst-1',
        channelId: 'chan-7',
        sentenceId: 3,
        callerNumber: '+8613800000000',
        calleeNumber: '客服',
        userData: { name: 'Li', vip: true },
      },
    });
    const headers = request!.headers;
    assert.equal(headers['x-api-key'], SECRET);
    assert.match(String(headers['content-type']), /^application\/json/);
    assert.equal(headers['x-voice-instance-id'], 'inst-1');
    assert.equal(headers['x-voice-channel-id'], 'chan-7');
    assert.equal(headers['x-voice-sentence-id'], '3');
    assert.equal(headers['x-voice-caller-number'], '+8613800000000');
    assert.equal(headers['x-voice-callee-number'], encodeURIComponent('客服'));
    assert.ok(!result.content.includes(SECRET));
  });

  it('sends raw userData when it is not JSON, and empty arguments as {}', BOUNDED, async () => {
    const before = requestsTo('/echo').length;
    const result = await runHttpTool(tool({ url: `${origin}/echo` }), '  ', { userDataRaw: 'vip caller' }, live(), dispatcher);
    assert.equal(result.ok, true);
    const request = requestsTo('/echo')[before];
    assert.ok(request, 'the endpoint was called');
    assert.deepEqual(JSON.parse(request.body), { arguments: {}, call: { userData: 'vip caller' } });
    assert.equal(request.headers['x-voice-instance-id'], undefined);
  });

  for (const method of ['GET', 'DELETE'] as const) {
    it(`${method} sends the arguments as query parameters and the call context as headers`, BOUNDED, async () => {
      const before = requestsTo('/echo').length;
      const result = await runHttpTool(
        tool({ url: `${origin}/echo?v=1`, method }),
        JSON.stringify({ q: 'a b&c', n: 5, flag: false, filter: { since: '2024' }, ids: [1, 2], gone: null }),
        context,
        live(),
        dispatcher,
      );
      assert.equal(result.ok, true);
      assert.equal(result.content, '{"status":"shipped","eta":"tomorrow"}');
      const request = requestsTo('/echo')[before];
      assert.ok(request, 'the endpoint was called');
      assert.equal(request.method, method);
      assert.equal(request.body, '');
      const query = new URL(request.url, origin).searchParams;
      assert.deepEqual(
        [...query.entries()],
        [
          ['v', '1'],
          ['q', 'a b&c'],
          ['n', '5'],
          ['flag', 'false'],
          ['filter', '{"since":"2024"}'],
          ['ids', '[1,2]'],
        ],
      );
      assert.equal(request.headers['x-api-key'], SECRET);
      assert.equal(request.headers['x-voice-instance-id'], 'inst-1');
      assert.equal(request.headers['x-voice-channel-id'], 'chan-7');
      assert.equal(request.headers['x-voice-caller-number'], '+8613800000000');
      assert.equal(request.headers['x-voice-callee-number'], '4001234567');
      assert.equal(request.headers['content-type'], undefined);
    });
  }

  it('keeps the query parameters fixed in the URL: same-named arguments neither override nor duplicate them', BOUNDED, async () => {
    const before = requestsTo('/echo').length;
    const result = await runHttpTool(
      tool({ url: `${origin}/echo?tenant=acme&v=1`, method: 'GET' }),
      JSON.stringify({ tenant: 'other', v: 2, q: 'x' }),
      context,
      live(),
      dispatcher,
    );
    assert.equal(result.ok, true);
    const request = requestsTo('/echo')[before];
    assert.ok(request, 'the endpoint was called');
    const query = new URL(request.url, origin).searchParams;
    assert.deepEqual(
      [...query.entries()],
      [
        ['tenant', 'acme'],
        ['v', '1'],
        ['q', 'x'],
      ],
    );
  });

  it('cuts a large answer to maxResultChars and marks it', BOUNDED, async () => {
    const result = await runHttpTool(tool({ url: `${origin}/big`, maxResultChars: 50 }), '{}', context, live(), dispatcher);
    assert.equal(result.ok, true);
    assert.equal(result.content, `${'x'.repeat(50)}${TRUNCATION_MARKER}`);
  });

  it('never splits a multi-byte character', BOUNDED, async () => {
    const result = await runHttpTool(tool({ url: `${origin}/euro`, maxResultChars: 10 }), '{}', context, live(), dispatcher);
    assert.equal(result.ok, true);
    assert.equal(result.content, `${'€'.repeat(10)}${TRUNCATION_MARKER}`);
  });

  it('stops reading after maxResultChars*4 bytes, even from a body that never ends', BOUNDED, async () => {
    const result = await runHttpTool(
      tool({ url: `${origin}/endless`, maxResultChars: 100, timeoutMs: 4_000 }),
      '{}',
      context,
      live(),
      dispatcher,
    );
    assert.equal(result.ok, true);
    assert.equal(result.content, `${'y'.repeat(100)}${TRUNCATION_MARKER}`);
    assert.ok(result.durationMs < 2_000, `took ${result.durationMs} ms`);
    await waitUntil(() => requestsTo('/endless')[0]?.closedEarly === true, 'the endless response to be closed');
  });

  it('says so when a 2xx answer is empty', BOUNDED, async () => {
    const result = await runHttpTool(tool({ url: `${origin}/empty` }), '{}', context, live(), dispatcher);
    assert.deepEqual({ ok: result.ok, status: result.status, error: result.error }, { ok: true, status: 204, error: undefined });
    assert.match(result.content, /HTTP 204/);
  });

  it('turns a 500 into an http_error result quoting the start of the body', BOUNDED, async () => {
    const result = await runHttpTool(tool({ url: `${origin}/fail` }), '{}', context, live(), dispatcher);
    assert.equal(result.ok, false);
    assert.equal(result.error, 'http_error');
    assert.equal(result.status, 500);
    const prefix = 'Error: the tool answered HTTP 500: ';
    assert.ok(result.content.startsWith(`${prefix}database down z`), result.content);
    assert.equal(result.content.length, prefix.length + 300);
  });

  it('reports a non-2xx answer without a body', BOUNDED, async () => {
    const result = await runHttpTool(tool({ url: `${origin}/unavailable` }), '{}', context, live(), dispatcher);
    assert.deepEqual(
      { ok: result.ok, error: result.error, status: result.status, content: result.content },
      { ok: false, error: 'http_error', status: 503, content: 'Error: the tool answered HTTP 503' },
    );
  });

  it('gives a timeout result when the endpoint never answers', BOUNDED, async () => {
    const started = Date.now();
    const result = await runHttpTool(tool({ url: `${origin}/hang`, timeoutMs: 200 }), '{}', context, live(), dispatcher);
    const took = Date.now() - started;
    assert.deepEqual(
      { ok: result.ok, error: result.error, content: result.content },
      { ok: false, error: 'timeout', content: 'Error: the tool did not answer within 200 ms.' },
    );
    assert.ok(took >= 150 && took < 2_000, `took ${took} ms`);
    assert.equal(result.status, undefined);
  });

  it('gives a timeout result when the body stalls', BOUNDED, async () => {
    const started = Date.now();
    const result = await runHttpTool(tool({ url: `${origin}/stall-body`, timeoutMs: 200 }), '{}', context, live(), dispatcher);
    const took = Date.now() - started;
    assert.equal(result.ok, false);
    assert.equal(result.error, 'timeout');
    assert.ok(took >= 150 && took < 2_000, `took ${took} ms`);
  });

  it('gives a network_error result when the connection is refused, without secrets', BOUNDED, async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const result = await runHttpTool(tool({ url: `http://127.0.0.1:${port}/orders?key=${SECRET}` }), '{}', context, live(), dispatcher);
    assert.equal(result.ok, false);
    assert.equal(result.error, 'network_error');
    assert.equal(result.status, undefined);
    assert.equal(result.content, 'Error: the tool could not be reached (ECONNREFUSED).');
    assert.ok(!result.content.includes(SECRET));
  });

  for (const [label, json, detail] of [
    ['not JSON', '{"orderId": A-17', /^Error: the arguments were not valid JSON: /],
    ['an array', '[1,2]', /expected a JSON object, got an array/],
    ['a string', '"A-17"', /expected a JSON object, got a string/],
    ['null', 'null', /expected a JSON object, got null/],
  ] as const) {
    it(`answers invalid_arguments without calling the endpoint when the arguments are ${label}`, BOUNDED, async () => {
      const before = seen.length;
      const result = await runHttpTool(tool({ url: `${origin}/echo` }), json, context, live(), dispatcher);
      assert.equal(result.ok, false);
      assert.equal(result.error, 'invalid_arguments');
      assert.ok(result.content.startsWith('Error: the arguments were not valid JSON: '), result.content);
      assert.match(result.content, detail);
      assert.equal(seen.length, before, 'no request was made');
    });
  }

  it('throws the abort reason when the caller aborts mid-request, and closes the connection', BOUNDED, async () => {
    const controller = new AbortController();
    const reason = new Error('barge-in');
    const running = runHttpTool(tool({ url: `${origin}/hang`, timeoutMs: 4_000 }), '{}', context, controller.signal, dispatcher);
    const index = requestsTo('/hang').length;
    await waitUntil(() => requestsTo('/hang').length > index, 'the hanging request to arrive');
    const started = Date.now();
    controller.abort(reason);
    await assert.rejects(running, (err: unknown) => err === reason);
    assert.ok(Date.now() - started < 1_000);
    await waitUntil(() => requestsTo('/hang')[index]?.closedEarly === true, 'the server to see the connection close');
  });

  it('throws the abort reason when the caller aborts while the body is being read', BOUNDED, async () => {
    const controller = new AbortController();
    const reason = new Error('barge-in during body');
    const index = requestsTo('/stall-body').length;
    const running = runHttpTool(tool({ url: `${origin}/stall-body`, timeoutMs: 4_000 }), '{}', context, controller.signal, dispatcher);
    await waitUntil(() => requestsTo('/stall-body').length > index, 'the stalling request to arrive');
    // Let the headers and the first bytes reach the client.
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(reason);
    await assert.rejects(running, (err: unknown) => err === reason);
    await waitUntil(() => requestsTo('/stall-body')[index]?.closedEarly === true, 'the server to see the connection close');
  });

  it('throws at once, without a request, when the signal is already aborted', BOUNDED, async () => {
    const before = seen.length;
    const reason = new Error('already gone');
    await assert.rejects(
      runHttpTool(tool({ url: `${origin}/echo` }), '{}', context, AbortSignal.abort(reason), dispatcher),
      (err: unknown) => err === reason,
    );
    assert.equal(seen.length, before);
  });

  it('uses its own keep-alive pool when given no dispatcher', BOUNDED, async () => {
    const result = await runHttpTool(tool({ url: `${origin}/echo` }), '{"orderId":"B-2"}', context, live());
    assert.equal(result.ok, true);
    assert.equal(result.content, '{"status":"shipped","eta":"tomorrow"}');
  });
});
