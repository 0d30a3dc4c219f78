import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PhraseJoiner } from '../../src/text/phrase-joiner.ts';
import { joinWords, spaceBetween } from '../../src/text/word-space.ts';

describe('spaceBetween', () => {
  it('puts a space only between two non-CJK characters', () => {
    assert.equal(spaceBetween('One moment.', 'Your order'), ' ');
    assert.equal(spaceBetween('Hi', '5 items'), ' ');
    assert.equal(spaceBetween('请稍等。', '您的订单'), '');
    assert.equal(spaceBetween('请稍等。', 'OK'), '', 'after CJK punctuation');
    assert.equal(spaceBetween('One moment.', '您的订单'), '', 'before Chinese');
    assert.equal(spaceBetween('好的', '再见'), '');
    assert.equal(spaceBetween('はい', 'OK'), '', 'kana');
    assert.equal(spaceBetween('네', 'OK'), '', 'hangul');
    assert.equal(spaceBetween('OK', '𠀀'), '', 'an ideograph outside the BMP');
    assert.equal(spaceBetween('ＯＫ', 'go'), '', 'fullwidth forms');
  });

  it('adds none at an edge or next to whitespace', () => {
    assert.equal(spaceBetween('', 'Hello'), '');
    assert.equal(spaceBetween('Hello', ''), '');
    assert.equal(spaceBetween('Hello ', 'there'), '');
    assert.equal(spaceBetween('Hello', '\nthere'), '');
  });

  it('joinWords joins with it', () => {
    assert.equal(joinWords('Welcome!', 'How can I help?'), 'Welcome! How can I help?');
    assert.equal(joinWords('欢迎致电。', '请问有什么可以帮您？'), '欢迎致电。请问有什么可以帮您？');
  });
});

describe('PhraseJoiner', () => {
  it("joins a phrase to the text before and after it, and never respaces the model's own text", () => {
    const joiner = new PhraseJoiner();
    assert.equal(joiner.text('Sure.'), 'Sure.');
    assert.equal(joiner.phrase('One moment.'), ' One moment.');
    assert.equal(joiner.text(''), '', 'empty text waits');
    assert.equal(joiner.text('Your'), ' Your');
    assert.equal(joiner.text('order'), 'order', "the model's text is never respaced");
  });

  it('adds no space next to Chinese', () => {
    const joiner = new PhraseJoiner();
    assert.equal(joiner.phrase('请稍等，我查一下。'), '请稍等，我查一下。');
    assert.equal(joiner.text('您的订单已发货。'), '您的订单已发货。');
    assert.equal(joiner.phrase('再见！'), '再见！');
    const english = new PhraseJoiner();
    assert.equal(english.phrase('One moment.'), 'One moment.');
    assert.equal(english.text('您好'), '您好', 'an English phrase before Chinese text');
  });

  it('keeps a text part unchanged when nothing is added', () => {
    const joiner = new PhraseJoiner();
    const part = { type: 'text' as const, text: 'Hello' };
    assert.equal(joiner.part(part), part);
    joiner.phrase('One moment.');
    assert.deepEqual(joiner.part({ type: 'text', text: 'Hello' }), { type: 'text', text: ' Hello' });
  });
});
