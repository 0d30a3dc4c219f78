import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformCaller, platformCalls } from '../support/platform-calls.ts';
import { ANSWER, GREETING, startPhoneAgent, systemPromptOf, type PhoneAgentSetup } from '../support/phone-agent.ts';

describe('the same agent answers the same call on every HTTP platform', () => {
  let setup: PhoneAgentSetup;
  before(async () => {
    setup = await startPhoneAgent();
  });
  after(() => setup.close());

  for (const call of platformCalls()) {
    it(`on ${call.platform}: greets, answers with the call's data, is cut off, transfers and ends in the platform's own form`, async () => {
      const caller = new PlatformCaller(setup.gateway.url, call);
      const seen = setup.upstream.requests.length;
      assert.equal((await caller.say('Hello?')).text, GREETING);
      // Agora names a channel, not a call; RTC platforms carry no phone numbers.
      const prompt = systemPromptOf(setup.upstream.requests[seen]!);
      assert.match(prompt, call.platform === 'agora' ? /call , name Ada\./ : /call call-\w+, name Ada\./);

      // One way to end and to transfer: the agent's; the platform's own functions are not offered twice.
      const tools = (setup.upstream.requests[seen]!.body as { tools: Array<{ function: { name: string } }> }).tools.map(
        (t) => t.function.name,
      );
      assert.deepEqual(tools.filter((name) => name !== 'skip_turn').sort(), ['end_call', 'transfer_call']);

      assert.equal((await caller.say('Where is my order?')).text, ANSWER);

      const controller = new AbortController();
      const cut = caller.say('Tell me everything', controller.signal);
      await setup.upstream.waitForRequests(seen + 3);
      controller.abort();
      await assert.rejects(cut);
      await setup.upstream.waitForAbort(seen + 2);
      caller.history.pop();

      const transfer = await caller.say('A human, please');
      if (call.transferTool === undefined) {
        assert.match(transfer.text, /<imsagent_transfer_call callee="\+14155550100" msg="Putting you through to sales\."/);
      } else {
        assert.equal(transfer.tool.name, call.transferTool);
        assert.match(transfer.tool.arguments, /\+14155550100/);
        assert.equal(transfer.finishReason, 'tool_calls');
      }

      const bye = await caller.say('ok bye');
      assert.equal(bye.text, 'Thanks for calling!');
      assert.equal(bye.tool.name, call.endTool);
      assert.equal(bye.finishReason, 'tool_calls');

      const lines = setup.gateway.logs.filter((line) => line.msg === 'turn' && line.platform === call.platform);
      assert.deepEqual(
        lines.map((line) => line.status),
        ['ok', 'ok', 'client_closed', 'ok', 'ok'],
      );
    });
  }
});
