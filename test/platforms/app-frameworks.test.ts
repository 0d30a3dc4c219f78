import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { liveKitPlatform } from '../../src/platforms/livekit.ts';
import { pipecatPlatform } from '../../src/platforms/pipecat.ts';
import { platformFixture } from './fixtures.ts';
import { mapFixture } from './mapping.ts';

describe('LiveKit Agents and Pipecat: the request in the gateway call model', () => {
  it('names the call by X-Call-Id, else by user', () => {
    assert.equal(mapFixture(liveKitPlatform, 'livekit').call.instanceId, 'lk-room-3/agent-1');
    const { headers, body } = platformFixture('livekit');
    const byUser = liveKitPlatform.toChatBody({ headers: { ...headers, 'x-call-id': undefined }, body });
    assert.deepEqual(byUser.extendData, { instanceId: 'lk-room-3' });
  });

  it('reads the caller and userData headers', () => {
    const turn = mapFixture(pipecatPlatform, 'pipecat');
    assert.equal(turn.call.instanceId, 'pipecat-call-11');
    assert.equal(turn.call.callerNumber, '+16505550199');
    assert.deepEqual(turn.call.userData, { customerName: 'Ada' });
  });

  it('knows LiveKit retries (identical requests) and nothing else as one', () => {
    const request = platformFixture('livekit');
    const key = liveKitPlatform.retryKey?.(request);
    assert.equal(liveKitPlatform.retryKey?.(structuredClone(request)), key);
    const next = { ...request, body: { ...request.body, messages: [{ role: 'user', content: 'And the invoice?' }] } };
    assert.notEqual(liveKitPlatform.retryKey?.(next), key);
    assert.equal(pipecatPlatform.retryKey, undefined);
  });
});
