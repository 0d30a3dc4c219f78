import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agoraPlatform } from '../../src/platforms/agora.ts';
import { detectPlatform } from '../../src/platforms/platforms.ts';
import { platformFixture } from './fixtures.ts';
import { mapFixture } from './mapping.ts';

describe('Agora: the request in the gateway call model', () => {
  it('takes the channel from its header, the turn from turn_id, userData from context', () => {
    const turn = mapFixture(agoraPlatform, 'agora');
    assert.equal(turn.call.channelId, 'agora-channel-5');
    assert.equal(turn.call.sentenceId, 2);
    assert.deepEqual(turn.call.userData, { appId: 'app-0123', userId: '1001', channel: 'agora-channel-5' });
  });

  it('marks a cut-off assistant turn with the interruption mark, and only that one', () => {
    const turn = mapFixture(agoraPlatform, 'agora');
    const answers = turn.messages.filter((message) => message.role === 'assistant').map((message) => message.content);
    assert.deepEqual(answers, ['Hi, this is Example Shop.', 'Well, there is a lot <ims_agent_interrupted>']);
  });

  it('is recognised by its X-Agora-Customllm-* headers', () => {
    assert.equal(detectPlatform(platformFixture('agora')).name, 'agora');
  });
});
