import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { checkStreamRules } from '../../tools/check/stream-rules.ts';
import {
  startMockUpstream,
  textEvents,
  toolCallEvents,
  type MockUpstream,
  type RecordedRequest,
} from '../../tools/testing/mock-upstream.ts';
import { imsRequest, readStream, startTestGateway, type ParsedStream, type TestGateway } from '../support/gateway-harness.ts';

type Message = { role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string };

function upstreamBody(request: RecordedRequest): {
  messages: Message[];
  tools?: Array<{ function: { name: string; parameters?: any } }>;
  tool_choice?: unknown;
} {
  return request.body as never;
}

function toolCallsOf(stream: ParsedStream): Array<{ index: number; id?: string; function: { name?: string; arguments?: string } }> {
  return stream.chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
}

function finishOf(stream: ParsedStream): string {
  return stream.chunks.filter((c) => c.choices.length > 0).at(-1)!.choices[0].finish_reason;
}

describe('voice behaviour end to end', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;
  let toolServer: Server;
  let toolRequests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: any }>;
  let toolAnswer: { status: number; body: string; delayMs?: number };

  before(async () => {
    toolRequests = [];
    toolAnswer = { status: 200, body: '{"status":"shipped","eta":"tomorrow"}' };
    toolServer = createServer(async (req, res) => {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      toolRequests.push({ method: req.method!, url: req.url!, headers: req.headers, body: raw ? JSON.parse(raw) : undefined });
      if (toolAnswer.delayMs) await new Promise((r) => setTimeout(r, toolAnswer.delayMs));
      res.writeHead(toolAnswer.status, { 'content-type': 'application/json' }).end(toolAnswer.body);
    });
    toolServer.listen(0, '127.0.0.1');
    await once(toolServer, 'listening');
    const toolUrl = `http://127.0.0.1:${(toolServer.address() as AddressInfo).port}/orders`;
    process.env.VLG_TEST_TOOL_SECRET = 'tool-secret-123';

    upstream = await startMockUpstream();
    const provider = { type: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-x' };
    gateway = await startTestGateway({
      providers: { mock: provider },
      agents: {
        templated: {
          provider: 'mock',
          model: 'm',
          systemPrompt:
            'Caller {{callerNumber}} (to {{calleeNumber}}), VIP={{userData.vip}}, name={{userData.name}}, task={{query.task_id}}, missing=[{{userData.nope}}], call {{instanceId}}/{{channelId}}#{{sentenceId}}, now {{now}}.',
          variables: { 'userData.name': 'there' },
          timezone: 'Asia/Shanghai',
        },
        replacing: { provider: 'mock', model: 'm', systemPrompt: 'Agent prompt.', callerSystemPrompt: 'replace' },
        ignoring: { provider: 'mock', model: 'm', systemPrompt: 'Agent prompt.', callerSystemPrompt: 'ignore' },
        ender: { provider: 'mock', model: 'm', endCall: { hangupFunctionName: 'hang_up_now' } },
        texter: { provider: 'mock', model: 'm', endCall: { mode: 'text' } },
        transferrer: {
          provider: 'mock',
          model: 'm',
          transfer: {
            destinations: {
              sales: { callee: '10086', description: 'buying things' },
              billing: {
                callee: '10010',
                caller: '95555',
                msg: 'Transferring you to "billing" & payments.',
                errMsg: "Sorry, billing isn't available.",
              },
            },
          },
        },
        tooled: {
          provider: 'mock',
          model: 'm',
          maxToolRounds: 2,
          tools: [
            {
              name: 'lookup_order',
              description: 'Look up an order by id.',
              parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
              url: toolUrl,
              headers: { authorization: 'Bearer ${VLG_TEST_TOOL_SECRET}' },
              say: 'One moment, let me check.',
              timeoutMs: 500,
            },
          ],
        },
        plain: { provider: 'mock', model: 'm', speech: { enabled: false } },
        shaped: { provider: 'mock', model: 'm' },
        remembering: { provider: 'mock', model: 'm', memory: { mode: 'full' } },
        textOnly: { provider: 'mock', model: 'm', images: 'drop' },
        alternating: { provider: 'mock', model: 'm', history: { mergeConsecutiveRoles: true } },
      },
    });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
    toolServer.close();
  });

  it('renders the system prompt from the call: phone numbers, userData paths, query, time; missing renders empty', async () => {
    upstream.respondWith({ events: textEvents('ok') });
    await readStream(
      await gateway.post(
        '/v1/chat/completions?task_id=T-9&room_id=R',
        imsRequest('templated', 'hi', {
          extendData: {
            instanceId: 'I1',
            channelId: 'C1',
            sentenceId: 4,
            callerNumber: '13800000001',
            calleeNumber: '95555',
            userData: '{"vip":"gold"}',
          },
        }),
      ),
    );
    const system = upstreamBody(upstream.requests.at(-1)!).messages[0]!;
    assert.equal(system.role, 'system');
    assert.match(
      system.content as string,
      /^Caller 13800000001 \(to 95555\), VIP=gold, name=there, task=T-9, missing=\[\], call I1\/C1#4, now \d{4}-\d\d-\d\d \d\d:\d\d, \w+day \(Asia\/Shanghai\)\.$/,
    );
    assert.doesNotMatch(system.content as string, /\{\{|\}\}/);
  });

  it('combines a caller system message: append, replace, ignore', async () => {
    upstream.respondWith({ events: textEvents('ok') });
    const withCallerSystem = (model: string) =>
      imsRequest(model, 'hi', {
        messages: [
          { role: 'system', content: 'Console prompt.' },
          { role: 'user', content: 'hi' },
        ],
      });
    const systemSent = async (model: string) => {
      await readStream(await gateway.post('/v1/chat/completions', withCallerSystem(model)));
      return upstreamBody(upstream.requests.at(-1)!)
        .messages.filter((m) => m.role === 'system')
        .map((m) => m.content);
    };
    assert.deepEqual(await systemSent('replacing'), ['Console prompt.']);
    assert.deepEqual(await systemSent('ignoring'), ['Agent prompt.']);
    assert.deepEqual(await systemSent('shaped'), ['Console prompt.'], "an agent without a prompt keeps the caller's");
  });

  it('ends the call: the model calls end_call, the workflow gets a farewell and its own hangup function', async () => {
    upstream.respondWith({ events: toolCallEvents([{ name: 'end_call', arguments: '{}' }]) });
    const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest('ender', 'that is all, bye')));
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    const offered = upstreamBody(upstream.requests.at(-1)!).tools!.map((t) => t.function.name);
    assert.deepEqual(offered, ['end_call'], 'the model is offered the end-call function');
    assert.equal(stream.text, 'Goodbye, thanks for calling.', 'a farewell when the model said nothing');
    const calls = toolCallsOf(stream);
    assert.equal(calls.length, 2, 'start and arguments of exactly one call');
    assert.equal(calls[0]!.function.name, 'hang_up_now', 'the workflow-facing name, not the model-facing one');
    assert.equal(calls.map((c) => c.function.arguments).join(''), '{}');
    assert.equal(finishOf(stream), 'tool_calls');
  });

  it("ends the call with the model's own words and no second farewell", async () => {
    upstream.respondWith({ events: toolCallEvents([{ name: 'end_call', arguments: '{}' }], { leadingText: 'Bye, have a nice day!' }) });
    const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest('ender', 'bye')));
    assert.equal(stream.text, 'Bye, have a nice day!');
    assert.equal(toolCallsOf(stream)[0]!.function.name, 'hang_up_now');
  });

  it('ends the call with the <imsagent_hangup/> text command in text mode', async () => {
    upstream.respondWith({ events: toolCallEvents([{ name: 'end_call', arguments: '{"farewell":"See you \\"soon\\"!"}' }]) });
    const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest('texter', 'bye')));
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    assert.equal(stream.text, '<imsagent_hangup endword="See you &quot;soon&quot;!"/>');
    assert.equal(toolCallsOf(stream).length, 0);
    assert.equal(finishOf(stream), 'stop');
  });

  it('transfers to the chosen destination with escaped attributes; the enum lists the destinations', async () => {
    upstream.respondWith({
      events: toolCallEvents([{ name: 'transfer_call', arguments: '{"destination":"billing"}' }], { leadingText: 'Let me transfer you.' }),
    });
    const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest('transferrer', 'I need billing')));
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    const offered = upstreamBody(upstream.requests.at(-1)!).tools!.find((t) => t.function.name === 'transfer_call')!;
    assert.deepEqual(offered.function.parameters.properties.destination.enum, ['sales', 'billing']);
    assert.equal(
      stream.text,
      'Let me transfer you.<imsagent_transfer_call caller="95555" callee="10010" msg="Transferring you to &quot;billing&quot; &amp; payments." err_msg="Sorry, billing isn&apos;t available."/>',
    );
    assert.equal(toolCallsOf(stream).length, 0, 'the model-facing function never reaches the workflow');
    assert.equal(finishOf(stream), 'stop');
  });

  it("still relays a caller-supplied tool call next to the gateway's functions", async () => {
    upstream.respondWith({ events: toolCallEvents([{ name: 'client_lookup', arguments: '{"q":1}' }]) });
    const stream = await readStream(
      await gateway.post(
        '/v1/chat/completions',
        imsRequest('ender', 'x', { tools: [{ type: 'function', function: { name: 'client_lookup' } }] }),
      ),
    );
    const offered = upstreamBody(upstream.requests.at(-1)!).tools!.map((t) => t.function.name);
    assert.deepEqual(offered, ['client_lookup', 'end_call']);
    assert.equal(toolCallsOf(stream)[0]!.function.name, 'client_lookup');
    assert.equal(finishOf(stream), 'tool_calls');
  });

  it('barge-in: a new turn of the same call cancels the one still streaming', async () => {
    upstream.respondWith((request) =>
      JSON.stringify(request.body).includes('first question')
        ? { events: textEvents('A long first answer that the caller will interrupt halfway through.'), eventIntervalMs: 40 }
        : { events: textEvents('Second answer.') },
    );
    const before = upstream.requests.length;
    const call = { instanceId: 'barge-call', channelId: 'room', sentenceId: 1 };
    const first = await gateway.post('/v1/chat/completions', imsRequest('shaped', 'first question', { extendData: call }));
    const firstReader = readStream(first);
    await upstream.waitForRequests(before + 1, 2000);
    await new Promise((r) => setTimeout(r, 120));
    const second = await gateway.post(
      '/v1/chat/completions',
      imsRequest('shaped', 'second question', { extendData: { ...call, sentenceId: 2 } }),
    );
    const aborted = await upstream.waitForAbort(before, 2000);
    assert.equal(aborted.aborted, true, 'the first upstream request was aborted');
    const firstStream = await firstReader;
    assert.deepEqual(checkStreamRules(firstStream.chunks, firstStream.sawDone), [], 'the superseded stream still ends cleanly');
    assert.ok(firstStream.text.length < 'A long first answer that the caller will interrupt halfway through.'.length);
    const secondStream = await readStream(second);
    assert.equal(secondStream.text, 'Second answer.');
    assert.ok(gateway.logs.some((l) => l.status === 'superseded' && l.instanceId === 'barge-call'));
  });

  it('cleans history: no interruption marker reaches the model, which learns where it was cut; orphans dropped', async () => {
    upstream.respondWith({ events: textEvents('ok') });
    await readStream(
      await gateway.post(
        '/v1/chat/completions',
        imsRequest('shaped', 'x', {
          messages: [
            { role: 'user', content: 'tell me about plans' },
            { role: 'assistant', content: 'We have three plans. The first<ims_agent_interrupted> one costs' },
            { role: 'user', content: 'wait, how much?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'orphan', type: 'function', function: { name: 'f', arguments: '{}' } }],
            },
            { role: 'tool', tool_call_id: 'nobody', content: 'stray result' },
            { role: 'user', content: 'hello?' },
          ],
        }),
      ),
    );
    const sent = upstreamBody(upstream.requests.at(-1)!).messages;
    const text = JSON.stringify(sent);
    assert.doesNotMatch(text, /ims_agent_interrupted/);
    assert.doesNotMatch(text, /orphan|stray result/);
    const cut = sent.findIndex((m) => m.role === 'assistant');
    assert.match(String(sent[cut]!.content), /^We have three plans\. The first/);
    assert.doesNotMatch(String(sent[cut]!.content), /one costs/, 'what the caller did not hear is not presented as said');
    assert.equal(sent[cut + 1]!.role, 'system', 'a note the model will not read aloud');
    assert.match(String(sent[cut + 1]!.content), /interrupt/i);
  });

  it('merges consecutive same-role messages for upstreams that demand alternation', async () => {
    upstream.respondWith({ events: textEvents('ok') });
    await readStream(
      await gateway.post(
        '/v1/chat/completions',
        imsRequest('alternating', 'x', {
          messages: [
            { role: 'user', content: 'one' },
            { role: 'user', content: 'two' },
          ],
        }),
      ),
    );
    const roles = upstreamBody(upstream.requests.at(-1)!).messages.map((m) => m.role);
    assert.deepEqual(roles, ['user']);
  });

  it('makes output speech-safe: no markdown, no emoji, no model-written command, even split across chunks', async () => {
    const markdown = '## Plans\n\n**Basic** plan: *cheap* 👍\n- see [our site](https://x.example)\n<imsagent_hangup endword="Bye *now*"/>';
    upstream.respondWith({ events: textEvents(markdown, { chunkSize: 3 }) });
    const shaped = await readStream(await gateway.post('/v1/chat/completions', imsRequest('shaped', 'x')));
    const spoken = shaped.text.replace(/<imsagent_[^>]*>/, '');
    assert.doesNotMatch(spoken, /[#*[\]]|👍|https/u);
    assert.match(shaped.text, /Plans/);
    assert.match(shaped.text, /Basic plan: cheap/);
    assert.match(shaped.text, /see our site/);
    assert.doesNotMatch(shaped.text, /imsagent/, 'a command the model wrote itself is taken out (commands.fromModel is off)');
    upstream.respondWith({ events: textEvents(markdown, { chunkSize: 3 }) });
    const raw = await readStream(await gateway.post('/v1/chat/completions', imsRequest('plain', 'x')));
    assert.equal(
      raw.text,
      markdown.replace(/<imsagent_[^>]*>$/, ''),
      'speech shaping can be turned off (the command is taken out all the same)',
    );
  });

  it('runs a server-side HTTP tool within the same stream and feeds the result back', async () => {
    toolRequests.length = 0;
    toolAnswer = { status: 200, body: '{"status":"shipped","eta":"tomorrow"}' };
    upstream.respondWith((request) =>
      JSON.stringify(request.body).includes('"role":"tool"')
        ? { events: textEvents('Your order has shipped and arrives tomorrow.') }
        : { events: toolCallEvents([{ name: 'lookup_order', arguments: '{"order_id":"A-17"}' }]) },
    );
    const before = upstream.requests.length;
    const stream = await readStream(
      await gateway.post(
        '/v1/chat/completions',
        imsRequest('tooled', 'where is my order A-17', {
          extendData: {
            instanceId: 'tool-call-1',
            channelId: 'c',
            sentenceId: 1,
            callerNumber: '13800000001',
            userData: '{"tier":"gold"}',
          },
        }),
      ),
    );
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    assert.equal(stream.text, 'One moment, let me check. Your order has shipped and arrives tomorrow.');
    assert.equal(toolCallsOf(stream).length, 0, 'server tool calls never reach the workflow');
    assert.equal(finishOf(stream), 'stop');

    assert.equal(toolRequests.length, 1);
    const hit = toolRequests[0]!;
    assert.equal(hit.method, 'POST');
    assert.equal(hit.headers.authorization, 'Bearer tool-secret-123', '${ENV} secrets in tool headers');
    assert.deepEqual(hit.body.arguments, { order_id: 'A-17' });
    assert.equal(hit.body.call.instanceId, 'tool-call-1');
    assert.equal(hit.body.call.callerNumber, '13800000001');
    assert.deepEqual(hit.body.call.userData, { tier: 'gold' });

    assert.equal(upstream.requests.length - before, 2, 'two rounds');
    const second = upstreamBody(upstream.requests.at(-1)!).messages;
    const toolMessage = second.find((m) => m.role === 'tool')!;
    assert.equal(toolMessage.content, '{"status":"shipped","eta":"tomorrow"}');
    const assistant = second.find((m) => m.role === 'assistant' && m.tool_calls)!;
    assert.equal((assistant.tool_calls as any[])[0].id, toolMessage.tool_call_id);
    assert.doesNotMatch(gateway.logText(), /tool-secret-123/);
  });

  it('turns a failing tool into a result the model can handle, and stops offering tools after maxToolRounds', async () => {
    toolRequests.length = 0;
    toolAnswer = { status: 503, body: 'down for maintenance' };
    upstream.respondWith((request) => {
      const body = request.body as { tool_choice?: string };
      return body.tool_choice === 'none'
        ? { events: textEvents('Sorry, I cannot check orders right now.') }
        : { events: toolCallEvents([{ name: 'lookup_order', arguments: '{"order_id":"B"}' }]) };
    });
    const before = upstream.requests.length;
    const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest('tooled', 'order B?')));
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    assert.equal(upstream.requests.length - before, 3, 'two tool rounds, then a final answer');
    assert.equal(toolRequests.length, 2);
    const last = upstreamBody(upstream.requests.at(-1)!);
    assert.equal(last.tool_choice, 'none');
    const results = last.messages.filter((m) => m.role === 'tool').map((m) => String(m.content));
    assert.equal(results.length, 2);
    assert.match(results[0]!, /503/);
    assert.match(stream.text, /Sorry, I cannot check orders right now\.$/);
  });

  it("checks the arguments against the tool's parameters: a mismatch goes back to the model, the endpoint is not called", async () => {
    toolRequests.length = 0;
    toolAnswer = { status: 200, body: '{"status":"shipped"}' };
    upstream.respondWith((request) =>
      JSON.stringify(request.body).includes('"role":"tool"')
        ? { events: textEvents('Which order number, please?') }
        : { events: toolCallEvents([{ name: 'lookup_order', arguments: '{"order_id":17}' }]) },
    );
    const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest('tooled', 'order 17?')));
    assert.equal(toolRequests.length, 0, 'the endpoint is not called with arguments that do not match');
    const result = upstreamBody(upstream.requests.at(-1)!).messages.find((m) => m.role === 'tool')!;
    assert.match(String(result.content), /^Error: the arguments do not match the parameters of lookup_order: order_id: .*expected string/);
    assert.match(stream.text, /Which order number, please\?$/);
  });

  it("full memory restores the turns the workflow's window dropped", async () => {
    upstream.respondWith((request) => ({ events: textEvents(`answer ${upstreamBody(request).messages.length}`) }));
    const call = (sentenceId: number) => ({ instanceId: 'memory-call', channelId: 'c', sentenceId });
    const one = await readStream(
      await gateway.post('/v1/chat/completions', imsRequest('remembering', 'my name is Li', { extendData: call(1) })),
    );
    const two = await readStream(
      await gateway.post(
        '/v1/chat/completions',
        imsRequest('remembering', 'x', {
          extendData: call(2),
          messages: [
            { role: 'user', content: 'my name is Li' },
            { role: 'assistant', content: one.text },
            { role: 'user', content: 'I live in Hangzhou' },
          ],
        }),
      ),
    );
    // The workflow's window now only holds the newest exchange: the gateway restores the rest.
    await readStream(
      await gateway.post(
        '/v1/chat/completions',
        imsRequest('remembering', 'x', {
          extendData: call(3),
          messages: [
            { role: 'assistant', content: two.text },
            { role: 'user', content: 'what is my name?' },
          ],
        }),
      ),
    );
    const sent = upstreamBody(upstream.requests.at(-1)!).messages.map((m) => `${m.role}:${m.content}`);
    assert.deepEqual(sent, [
      'user:my name is Li',
      `assistant:${one.text}`,
      'user:I live in Hangzhou',
      `assistant:${two.text}`,
      'user:what is my name?',
    ]);
  });

  it('drops images for a text-only agent and keeps the text', async () => {
    upstream.respondWith({ events: textEvents('ok') });
    const content = [
      { type: 'text', text: 'what is this?' },
      ...Array.from({ length: 15 }, () => ({ type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/AAAA' } })),
    ];
    await readStream(await gateway.post('/v1/chat/completions', imsRequest('textOnly', 'x', { messages: [{ role: 'user', content }] })));
    const sent = upstreamBody(upstream.requests.at(-1)!).messages;
    assert.doesNotMatch(JSON.stringify(sent), /image_url/);
    assert.match(JSON.stringify(sent), /what is this\?/);
    await readStream(await gateway.post('/v1/chat/completions', imsRequest('shaped', 'x', { messages: [{ role: 'user', content }] })));
    assert.equal(
      (JSON.stringify(upstreamBody(upstream.requests.at(-1)!).messages).match(/"type":"image_url"/g) ?? []).length,
      15,
      'passed by default',
    );
  });
});
