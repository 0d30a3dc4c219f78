/**
 * The agent's `language` end to end: a `language: zh` agent writes its notes, function
 * descriptions and {{now}} to the model in Chinese and speaks its apology, farewell and filler in
 * Chinese even to a caller who writes English; the gateway joins its own phrases without a space
 * next to Chinese; `auto` keeps following the caller. The texts are spelled out (not imported
 * from the catalog): a change of wording is a visible change.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
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

const NOTE_ZH = '（来电者在此处打断了你之前的回答，没有听到后面的内容。除非被问到，不要重复。）';
const NOTE_EN = '(The caller interrupted your previous answer at this point and did not hear the rest. Do not repeat it unless asked.)';
const END_CALL_ZH = '结束通话。对话已经结束，或来电者道别时调用。';
const END_CALL_EN = 'End the phone call. Call this once the conversation is over or the caller says goodbye.';
const TRANSFER_ZH = '把通话转给人工。来电者要求找人工，或你无法帮忙时调用。可转接的去向：sales：买东西；billing：发票和付款。';
const TRANSFER_EN =
  'Transfer the call to a human. Call this when the caller asks for a person or you cannot help. Destinations: sales: 买东西; billing: 发票和付款.';
const FAREWELL_ZH = '感谢您的来电，再见。';
const FAREWELL_EN = 'Goodbye, thanks for calling.';
const APOLOGY_ZH = '抱歉，我这边暂时出了点问题，请您稍后再说一遍。';
const APOLOGY_EN = "Sorry, I'm having trouble answering right now. Could you say that again in a moment?";
const FILLERS_ZH = ['请稍等。', '我看一下。', '稍等一下。'];
const NOW_ZH = /^现在是 \d{4}年\d{1,2}月\d{1,2}日 星期[一二三四五六日] \d\d:\d\d（Asia\/Shanghai）。$/u;
const NOW_EN = /^现在是 \d{4}-\d\d-\d\d \d\d:\d\d, \w+day \(Asia\/Shanghai\)。$/u;

type Message = { role: string; content?: unknown };
type Tool = { function: { name: string; description: string; parameters: { properties: Record<string, { description?: string }> } } };

function upstreamBody(request: RecordedRequest): { messages: Message[]; tools?: Tool[] } {
  return request.body as never;
}

function toolCallsOf(stream: ParsedStream): Array<{ function: { name?: string } }> {
  return stream.chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
}

/** A turn whose history holds an answer the caller cut off, as the IMS workflow sends it. */
function interruptedTurn(model: string, userText: string): Record<string, unknown> {
  return imsRequest(model, userText, {
    messages: [
      { role: 'user', content: 'tell me about plans' },
      { role: 'assistant', content: 'We have three plans. The first<ims_agent_interrupted> one costs' },
      { role: 'user', content: userText },
    ],
  });
}

describe('agent language end to end', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;
  let toolServer: Server;

  before(async () => {
    toolServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"shipped"}'));
    toolServer.listen(0, '127.0.0.1');
    await once(toolServer, 'listening');
    const toolUrl = `http://127.0.0.1:${(toolServer.address() as AddressInfo).port}/orders`;

    upstream = await startMockUpstream();
    const voiceAgent = (language: string, say: string) => ({
      provider: 'mock',
      model: 'm',
      language,
      systemPrompt: '现在是 {{now}}。',
      timezone: 'Asia/Shanghai',
      endCall: {},
      transfer: {
        destinations: {
          sales: { callee: '10086', description: '买东西' },
          billing: { callee: '10010', description: '发票和付款' },
        },
      },
      tools: [{ name: 'lookup_order', description: 'Look up an order.', url: toolUrl, say, timeoutMs: 2000 }],
    });
    gateway = await startTestGateway({
      server: { probeUpstreams: false },
      providers: {
        mock: { type: 'openai-compatible', baseUrl: upstream.url },
        failing: { type: 'openai-compatible', baseUrl: upstream.url, retry: { maxRetries: 0 } },
      },
      agents: {
        zh: voiceAgent('zh', '请稍等，我查一下。'),
        auto: voiceAgent('auto', 'One moment, let me check.'),
        zhDown: { provider: 'failing', model: 'm', language: 'zh' },
        autoDown: { provider: 'failing', model: 'm' },
        zhSlow: { provider: 'mock', model: 'm', language: 'zh', filler: { enabled: true, afterMs: 50 } },
      },
    });
  });
  after(async () => {
    // Each may be missing when `before` failed; the others must still close, or the run hangs.
    await gateway?.close();
    await upstream?.close();
    toolServer?.close();
  });

  async function sent(model: string, userText: string): Promise<{ messages: Message[]; tools: Tool[] }> {
    upstream.respondWith({ events: textEvents('ok') });
    await readStream(await gateway.post('/v1/chat/completions', interruptedTurn(model, userText)));
    const body = upstreamBody(upstream.requests.at(-1)!);
    return { messages: body.messages, tools: body.tools ?? [] };
  }

  const described = (tools: Tool[], name: string): Tool['function'] => tools.find((t) => t.function.name === name)!.function;

  it('language zh: the note, the function descriptions and {{now}} reach the model in Chinese, whatever the caller writes', async () => {
    const { messages, tools } = await sent('zh', 'how much is it?');
    assert.match(String(messages[0]!.content), NOW_ZH);
    const cut = messages.findIndex((m) => m.role === 'assistant');
    assert.deepEqual(messages[cut + 1], { role: 'system', content: NOTE_ZH });
    assert.equal(described(tools, 'end_call').description, END_CALL_ZH);
    assert.equal(
      described(tools, 'end_call').parameters.properties.farewell!.description,
      '用来电者的语言说的简短告别语。如果已经道别，就不要填。',
    );
    assert.equal(described(tools, 'transfer_call').description, TRANSFER_ZH);
    assert.equal(described(tools, 'transfer_call').parameters.properties.destination!.description, '把通话转到哪里。');
    assert.equal(described(tools, 'lookup_order').description, 'Look up an order.', "the operator's own text is untouched");
  });

  it('language auto: English for an English caller (as before), Chinese for a Chinese one', async () => {
    const english = await sent('auto', 'how much is it?');
    assert.match(String(english.messages[0]!.content), NOW_EN);
    assert.ok(english.messages.some((m) => m.role === 'system' && m.content === NOTE_EN));
    assert.equal(described(english.tools, 'end_call').description, END_CALL_EN);
    assert.equal(described(english.tools, 'transfer_call').description, TRANSFER_EN);

    const chinese = await sent('auto', '多少钱？');
    assert.match(String(chinese.messages[0]!.content), NOW_ZH);
    assert.ok(chinese.messages.some((m) => m.role === 'system' && m.content === NOTE_ZH));
    assert.equal(described(chinese.tools, 'end_call').description, END_CALL_ZH);
  });

  it('language zh: the default farewell is Chinese for an English caller; auto says it in English', async () => {
    for (const [model, farewell] of [
      ['zh', FAREWELL_ZH],
      ['auto', FAREWELL_EN],
    ] as const) {
      upstream.respondWith({ events: toolCallEvents([{ name: 'end_call', arguments: '{}' }]) });
      const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest(model, 'that is all, bye')));
      assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
      assert.equal(stream.text, farewell, model);
      assert.equal(toolCallsOf(stream)[0]!.function.name, 'hangup');
    }
  });

  it('language zh: the apology is Chinese for an English caller; auto apologizes in English', async () => {
    for (const [model, apology] of [
      ['zhDown', APOLOGY_ZH],
      ['autoDown', APOLOGY_EN],
    ] as const) {
      upstream.respondWith({ status: 500, body: '{"error":{"message":"down"}}' });
      const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest(model, 'hello?')));
      assert.equal(stream.text, apology, model);
    }
  });

  it("no space is added next to Chinese: a say phrase before the answer, a farewell after the model's words", async () => {
    upstream.respondWith((request) =>
      JSON.stringify(request.body).includes('"role":"tool"')
        ? { events: textEvents('您的订单已经发货。') }
        : { events: toolCallEvents([{ name: 'lookup_order', arguments: '{}' }]) },
    );
    const looked = await readStream(await gateway.post('/v1/chat/completions', imsRequest('zh', '我的订单呢')));
    assert.equal(looked.text, '请稍等，我查一下。您的订单已经发货。');

    upstream.respondWith({
      events: toolCallEvents([{ name: 'end_call', arguments: '{"farewell":"再见！"}' }], { leadingText: '好的，祝您愉快' }),
    });
    const ended = await readStream(await gateway.post('/v1/chat/completions', imsRequest('zh', '没有了')));
    assert.equal(ended.text, '好的，祝您愉快再见！');

    upstream.respondWith((request) =>
      JSON.stringify(request.body).includes('"role":"tool"')
        ? { events: textEvents('Your order has shipped.') }
        : { events: toolCallEvents([{ name: 'lookup_order', arguments: '{}' }], { leadingText: 'Sure.' }) },
    );
    const english = await readStream(await gateway.post('/v1/chat/completions', imsRequest('auto', 'where is my order')));
    assert.equal(english.text, 'Sure. One moment, let me check. Your order has shipped.', 'English words keep their spaces');
  });

  it('language zh: a slow answer gets a Chinese filler, joined to it without a space', async () => {
    upstream.respondWith({ events: textEvents('您好，有什么可以帮您？'), firstEventDelayMs: 400 });
    const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest('zhSlow', 'hello')));
    const filler = FILLERS_ZH.find((phrase) => stream.text.startsWith(phrase));
    assert.ok(filler, `a Chinese filler first: ${stream.text}`);
    assert.equal(stream.text, `${filler}您好，有什么可以帮您？`);
  });
});
