import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { Agent } from '../../src/agent/agent-registry.ts';
import { ToolRouter } from '../../src/agent/tool-router.ts';
import { turnStages } from '../../src/agent/turn-stages.ts';
import type { AgentConfig } from '../../src/config/schema.ts';
import { pipe } from '../../src/core/pipe.ts';
import { parseChatRequest } from '../../src/protocol/chat-request.ts';
import { imsPlatform } from '../../src/platforms/ims.ts';
import { agentConfig, endCallSettings } from '../support/core-stages.ts';
import { drain, feed, STOP, text } from '../support/stage-kit.ts';
import { ScriptedTestProvider } from '../support/test-provider.ts';

/** The turn's stage list for an agent with `fields`, as runTurn builds it. */
function stagesFor(config: AgentConfig, mayEndOrTransfer: boolean) {
  const provider = new ScriptedTestProvider('primary', []);
  const agent: Agent = { id: 'a', config, provider, targets: [], router: new ToolRouter(config), mayEndOrTransfer };
  const endCall = endCallSettings();
  return turnStages({
    agent,
    request: parseChatRequest({ model: 'a', messages: [{ role: 'user', content: 'Hello?' }] }),
    form: imsPlatform.signalForm({ endCall, offeredTools: new Set() }),
    endCall,
    language: 'en',
    signal: new AbortController().signal,
    logger: pino({ level: 'silent' }),
    observer: {},
  });
}

const names = (config: AgentConfig, mayEndOrTransfer = true) => stagesFor(config, mayEndOrTransfer).map((entry) => entry.name);

describe('the turn stage list', () => {
  it('lists every stage in the order the answer goes through them', () => {
    const config = agentConfig({ filler: { enabled: true }, endCall: { enabled: true } });
    assert.deepEqual(names(config), ['model-command guard', 'apology', 'filler', 'speech', 'speech-joined command guard', 'call signals']);
  });

  it('leaves out what the config does not ask for', () => {
    const config = agentConfig({ filler: { enabled: false }, speech: { enabled: false } });
    assert.deepEqual(names(config, false), ['model-command guard', 'apology']);
  });

  it('keeps speech when only pronunciations are configured', () => {
    const config = agentConfig({ speech: { enabled: false, pronunciations: [{ written: 'SQL', spoken: 'sequel' }] } });
    assert.deepEqual(names(config, false), ['model-command guard', 'apology', 'speech', 'speech-joined command guard']);
  });

  it('runs as one pipeline: a command the model wrote never reaches the caller', async () => {
    const stages = stagesFor(agentConfig(), false);
    const out = await drain(pipe(feed([text('Bye <imsagent_'), text('hangup/> now.'), STOP]), stages));
    assert.equal(out.text, 'Bye  now.');
    assert.deepEqual(out.types.at(-1), 'finish');
  });
});
