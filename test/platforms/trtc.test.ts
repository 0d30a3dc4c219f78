import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detectPlatform } from '../../src/platforms/platforms.ts';
import { trtcPlatform } from '../../src/platforms/trtc.ts';
import { platformFixture } from './fixtures.ts';
import { mapFixture, signalsWith, toolCallIn } from './mapping.ts';

describe('Tencent TRTC: the request in the gateway call model', () => {
  it('takes the call from X-Task-Id and X-Room-Id, userData from MetaInfo', () => {
    const turn = mapFixture(trtcPlatform, 'trtc');
    assert.equal(turn.call.instanceId, 'task-5d1b9c0e');
    assert.equal(turn.call.channelId, 'room-8842');
    assert.deepEqual(turn.call.userData, { customerName: 'Ada' });
  });

  it('is recognised by X-Task-Id; a retry is known by X-Request-Id', () => {
    const request = platformFixture('trtc');
    assert.equal(detectPlatform(request).name, 'trtc');
    assert.equal(trtcPlatform.retryKey?.(request), 'req-0001');
  });

  it('calls the hangup function only when it is offered', () => {
    assert.equal(toolCallIn(signalsWith(trtcPlatform, ['hangup']).hangup('Bye.', (p) => p)).name, 'hangup');
    assert.deepEqual(
      signalsWith(trtcPlatform, []).hangup('Bye.', (p) => p),
      [
        { type: 'text', text: 'Bye.' },
        { type: 'finish', reason: 'stop' },
      ],
    );
  });
});
