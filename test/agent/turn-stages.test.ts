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

  // Why the guard runs before speech as well as after it: speech shaping passes only exact
  // `<imsagent_…>` tags byte for byte, so it would rewrite a case-folded command's attributes.
  it('honours a case-folded transfer command before digit reading can rewrite its number', async () => {
    const config = agentConfig({
      commands: { fromModel: true },
      transfer: { destinations: { sales: { callee: '13800138000' } } },
      speech: { readDigits: { enabled: true } },
    });
    const stages = stagesFor(config, true);
    const model = [text('One moment. '), text('< IMSAGENT_TRANSFER_CALL callee="13800138000"/>'), STOP];
    const out = await drain(pipe(feed(model), stages));
    assert.match(out.text, /<imsagent_transfer_call[^>]*callee="13800138000"/);
    assert.doesNotMatch(out.text, /IMSAGENT/);
  });

  it('apologizes when the model wrote only a command before its stream broke', async () => {
    const stages = stagesFor(agentConfig(), false);
    const model = [text('<imsagent_hangup/>'), { fail: new Error('upstream broke') }];
    const out = await drain(pipe(feed(model), stages));
    assert.equal(out.error, undefined);
    assert.match(out.text, /sorry/i);
    assert.doesNotMatch(out.text, /imsagent/i);
  });
});
