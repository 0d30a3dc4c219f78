import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { limitImages } from '../../../src/agent/history/limit-images.ts';
import type { ChatMessage } from '../../../src/core/chat-types.ts';
import { deepFreeze, frame, imageUrls, IMS_WINDOW, imsWindow, multimodalTurn, scriptMessages } from './ims-history.ts';

/** A 20-record window whose newest turn is text plus 15 camera frames. */
function multimodalWindow(): ChatMessage[] {
  return imsWindow(scriptMessages(), multimodalTurn('你看一下我光猫上的灯，是不是坏了？'));
}

const urls = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => frame(from + i).image_url.url);

describe('limitImages', () => {
  it("'pass' relays every image: the same messages in a new array", () => {
    const window = deepFreeze(multimodalWindow());
    const out = limitImages(window, 'pass');
    assert.notEqual(out, window);
    assert.equal(out.length, IMS_WINDOW);
    out.forEach((message, i) => assert.equal(message, window[i]));
  });

  it("'drop' removes all 15 frames and collapses the turn to its text", () => {
    const window = deepFreeze(multimodalWindow());
    const out = limitImages(window, 'drop');
    assert.equal(out.length, IMS_WINDOW);
    assert.deepEqual(out.at(-1), { role: 'user', content: '你看一下我光猫上的灯，是不是坏了？' });
    out.slice(0, -1).forEach((message, i) => assert.equal(message, window[i], `message ${i} was copied`));
  });

  it("'drop' leaves '' for an image-only turn and keeps several text parts (and other parts) as parts", () => {
    const input = deepFreeze<ChatMessage[]>([
      { role: 'user', content: [frame(0), frame(1)] },
      {
        role: 'user',
        content: [{ type: 'text', text: '这是账单第一页，' }, frame(2), { type: 'text', text: '这是第二页。' }, frame(3)],
      },
      { role: 'user', content: [frame(4), { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }] },
    ]);
    assert.deepEqual(limitImages(input, 'drop'), [
      { role: 'user', content: '' },
      {
        role: 'user',
        content: [
          { type: 'text', text: '这是账单第一页，' },
          { type: 'text', text: '这是第二页。' },
        ],
      },
      { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }] },
    ]);
  });

  it('N keeps the newest N frames of the turn, in their order', () => {
    const window = deepFreeze(multimodalWindow());
    const out = limitImages(window, 4);
    assert.deepEqual(imageUrls(out.at(-1)!), urls(11, 15));
    assert.deepEqual((out.at(-1)!.content as unknown[])[0], { type: 'text', text: '你看一下我光猫上的灯，是不是坏了？' });
    assert.equal(limitImages(window, 15).at(-1), window.at(-1), 'nothing to drop: the same message');
  });

  it('N counts across the conversation from the end, dropping the older turns first', () => {
    const input = deepFreeze<ChatMessage[]>([
      multimodalTurn('这是昨天的灯。', 15, 0),
      { role: 'assistant', content: '红灯闪烁说明光信号中断。' },
      multimodalTurn('这是现在的灯。', 15, 100),
    ]);
    const out = limitImages(input, 20);
    assert.deepEqual(imageUrls(out[0]!), urls(10, 15));
    assert.equal(out[1], input[1]);
    assert.equal(out[2], input[2]);

    const newestOnly = limitImages(input, 15);
    assert.deepEqual(newestOnly[0], { role: 'user', content: '这是昨天的灯。' });
    assert.equal(newestOnly[2], input[2]);
  });

  it('0 drops every image, like drop', () => {
    const window = deepFreeze(multimodalWindow());
    assert.deepEqual(limitImages(window, 0), limitImages(window, 'drop'));
    assert.deepEqual(limitImages(window, 0).flatMap(imageUrls), []);
  });
});
