import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detectPlatform } from '../../src/platforms/platforms.ts';
import { volcenginePlatform } from '../../src/platforms/volcengine.ts';
import { platformFixture } from './fixtures.ts';
import { mapFixture } from './mapping.ts';

describe('Volcengine RTC: the request in the gateway call model', () => {
  it('maps maxTokens to max_tokens, round_id to the turn order, Custom fields to the call', () => {
    const turn = mapFixture(volcenginePlatform, 'volcengine');
    assert.equal(turn.params.max_tokens, 1024);
    assert.equal(turn.params.maxTokens, undefined);
    assert.equal(turn.call.sentenceId, 3);
    assert.equal(turn.call.instanceId, 'volc-call-19');
    assert.equal(turn.call.channelId, 'room-19');
    assert.deepEqual(turn.call.userData, { customerName: 'Ada' });
  });

  it('is only served under its prefix: nothing in its body is unmistakable', () => {
    assert.equal(detectPlatform(platformFixture('volcengine')).name, 'ims');
  });
});
