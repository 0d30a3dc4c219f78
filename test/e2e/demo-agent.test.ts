import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkStreamRules } from '../../tools/check/stream-rules.ts';
import { demoConfigSource } from '../../src/config/demo-config.ts';
import { imsRequest, readStream, startTestGateway, type TestGateway } from '../support/gateway-harness.ts';

describe('the zero-configuration demo agent', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(structuredClone(demoConfigSource) as Record<string, unknown>);
  });
  after(() => gateway.close());

  it('holds a conversation through to a hangup tool call, as the IMS workflow would see it', async () => {
    const history: Array<{ role: string; content: string }> = [];
    const turn = async (words: string, sentenceId: number) => {
      history.push({ role: 'user', content: words });
      const response = await gateway.post(
        '/chat/completions',
        imsRequest('whatever-the-console-says', words, {
          messages: history,
          extendData: { instanceId: 'demo-call', channelId: 'room', sentenceId },
        }),
      );
      assert.equal(response.status, 200);
      const stream = await readStream(response);
      assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
      history.push({ role: 'assistant', content: stream.text });
      return stream;
    };

    const first = await turn('hello', 1);
    assert.match(first.text, /connection works/i, 'the first answer confirms the connection');
    assert.equal(first.chunks.at(-1)!.choices[0].finish_reason, 'stop');

    const echo = await turn('the weather in Hangzhou', 2);
    assert.match(echo.text, /the weather in Hangzhou/);
    assert.doesNotMatch(echo.text, /connection works/i, 'the greeting is said once');

    const bye = await turn('ok, bye!', 3);
    assert.match(bye.text, /goodbye/i);
    const call = bye.chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])[0];
    assert.equal(call.function.name, 'hangup');
    assert.equal(call.type, 'function');
    assert.equal(bye.chunks.at(-1)!.choices[0].finish_reason, 'tool_calls');
  });

  it('ends the call in Chinese too', async () => {
    for (const words of ['再见', '好的，拜拜']) {
      const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest('demo', words)));
      assert.match(stream.text, /再见/);
      assert.equal(stream.chunks.at(-1)!.choices[0].finish_reason, 'tool_calls');
    }
  });
});
