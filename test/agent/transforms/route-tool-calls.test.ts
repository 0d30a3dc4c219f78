import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { closeHttpToolDispatcher } from '../../../src/agent/tools/http-tool.ts';
import type { ChatMessage } from '../../../src/core/chat-types.ts';
import { imsPlatform } from '../../../src/platforms/ims.ts';
import { agentConfig, callSignalsStage, conversation, endCallSettings, toolRoutingStage } from '../../support/core-stages.ts';
import {
  drain,
  endCall,
  finish,
  pipeline,
  runStage,
  ScriptedTestProvider,
  STOP,
  text,
  toolCall,
  transfer,
} from '../../support/stage-kit.ts';

const TRANSFER = { destinations: { sales: { callee: '10086' }, support: { callee: '10010' } } };
const CLIENT_TOOL = { type: 'function', function: { name: 'show_map', parameters: { type: 'object' } } };

let server: Server;
let toolUrl: string;
const toolBodies: unknown[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      toolBodies.push(JSON.parse(body));
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"shipped"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  toolUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`;
});

after(async () => {
  await closeHttpToolDispatcher();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function agentWithTools(fields: Record<string, unknown> = {}) {
  return agentConfig({
    endCall: {},
    transfer: TRANSFER,
    tools: [{ name: 'order_status', description: 'Looks an order up.', url: toolUrl, say: 'Let me check.' }],
    ...fields,
  });
}

describe('tool routing', () => {
  it("passes the client's own function calls through untouched", async () => {
    const { stage, serverCalls } = toolRoutingStage(agentWithTools());
    const input = [text('Here it is.'), ...toolCall('c1', 'show_map', '{"city":"Hangzhou"}', 3), finish('tool_calls')];
    const out = await runStage(stage, input);
    assert.deepEqual(out.parts, input);
    assert.deepEqual(serverCalls, []);
  });

  it("takes the agent's HTTP tool calls out, handing each over complete, its phrase said at once", async () => {
    const { stage, serverCalls } = toolRoutingStage(agentWithTools());
    const out = await runStage(stage, [text('Sure.'), ...toolCall('t1', 'order_status', '{"order":"A17"}', 4), finish('tool_calls')]);
    assert.equal(out.text, 'Sure. Let me check.');
    assert.ok(!out.types.some((type) => type.startsWith('tool-call')), 'nothing of the call reaches the client');
    assert.deepEqual(out.parts.at(-1), STOP, "a stop for the client: the tools were the gateway's");
    assert.equal(serverCalls.length, 1);
    assert.equal(serverCalls[0]!.tool.name, 'order_status');
    assert.equal(serverCalls[0]!.argumentsJson, '{"order":"A17"}');
  });

  it('keeps finish_reason tool_calls when a client function was called too', async () => {
    const { stage, serverCalls } = toolRoutingStage(agentWithTools());
    const out = await runStage(stage, [...toolCall('t1', 'order_status', '{}'), ...toolCall('c1', 'show_map'), finish('tool_calls')]);
    assert.deepEqual(out.parts.at(-1), finish('tool_calls'));
    assert.equal(serverCalls.length, 1);
  });

  it('turns the end-call function into an end-call part, with the farewell the model gave', async () => {
    const { stage } = toolRoutingStage(agentWithTools());
    const said = await runStage(stage, [...toolCall('e1', 'end_call', '{"farewell":" Bye! "}'), STOP]);
    assert.deepEqual(said.parts, [endCall('Bye!'), STOP]);
    const blank = await runStage(stage, [...toolCall('e2', 'end_call', '{"farewell":"  "}'), STOP]);
    assert.deepEqual(blank.parts, [endCall(), STOP]);
  });

  it('turns the transfer function into a transfer to the destination chosen (the first one when unknown)', async () => {
    const { stage } = toolRoutingStage(agentWithTools());
    const chosen = await runStage(stage, [...toolCall('x1', 'transfer_call', '{"destination":"support"}'), STOP]);
    assert.deepEqual(chosen.parts, [transfer('support'), STOP]);
    const unknown = await runStage(stage, [...toolCall('x2', 'transfer_call', '{"destination":"moon"}'), STOP]);
    assert.deepEqual(unknown.parts, [transfer('sales'), STOP]);
  });

  it("maps the model's end-call function to the workflow's hangup function", async () => {
    const config = agentWithTools({ endCall: { functionName: 'finish_conversation', hangupFunctionName: 'hangup' } });
    const routing = toolRoutingStage(config);
    const signals = callSignalsStage({
      endCall: config.endCall!,
      form: imsPlatform.signalForm({ endCall: endCallSettings(config.endCall), offeredTools: new Set() }),
    });
    const out = await runStage(pipeline(routing.stage, signals.stage), [
      text('Thank you.'),
      ...toolCall('e1', 'finish_conversation', '{}'),
      finish('tool_calls'),
    ]);
    const names = out.parts.flatMap((part) => (part.type === 'tool-call-start' ? [part.name] : []));
    assert.deepEqual(names, ['hangup']);
    assert.deepEqual(out.parts.at(-1), finish('tool_calls'));
  });

  describe('in the conversation rounds', () => {
    it("runs the agent's HTTP tool between rounds and gives the model its result", async () => {
      const model = new ScriptedTestProvider('primary', [
        [...toolCall('t1', 'order_status', '{"order":"A17"}'), finish('tool_calls')],
        [text(' It shipped yesterday.'), STOP],
      ]);
      const turn = conversation(agentWithTools(), [model]);
      const out = await drain(turn.parts);
      assert.equal(out.error, undefined);
      assert.equal(out.text, 'Let me check. It shipped yesterday.');
      assert.deepEqual(out.parts.at(-1), STOP);
      assert.equal(turn.toolRuns.length, 1);
      assert.equal(turn.toolRuns[0]!.result.ok, true);
      assert.deepEqual((toolBodies.at(-1) as { arguments: unknown }).arguments, { order: 'A17' });
      const second = model.requests[1]!.messages;
      const [assistant, result] = second.slice(-2) as [ChatMessage, ChatMessage];
      assert.equal(assistant.role, 'assistant');
      assert.equal(assistant.tool_calls?.[0]?.function.name, 'order_status');
      assert.deepEqual(result, { role: 'tool', tool_call_id: 't1', content: '{"status":"shipped"}' });
    });

    it("offers the model the client's functions and the agent's, and relays the client's calls", async () => {
      const model = new ScriptedTestProvider('primary', [[...toolCall('c1', 'show_map', '{}'), finish('tool_calls')]]);
      const turn = conversation(agentWithTools(), [model], { tools: [CLIENT_TOOL] });
      const out = await drain(turn.parts);
      const offered = (model.requests[0]!.params.tools as { function: { name: string } }[]).map((tool) => tool.function.name);
      assert.deepEqual(offered.sort(), ['end_call', 'order_status', 'show_map', 'transfer_call']);
      assert.deepEqual(out.types, ['tool-call-start', 'tool-call-delta', 'tool-call-end', 'finish']);
      assert.deepEqual(out.parts.at(-1), finish('tool_calls'));
      assert.equal(turn.toolRuns.length, 0);
      assert.equal(model.calls, 1, 'a client call ends the turn: the client runs it');
    });
  });
});
