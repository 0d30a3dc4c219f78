import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PHRASES } from '../../src/agent/language/phrases.ts';
import { fillerStage } from '../support/core-stages.ts';
import { fail, httpFailure, runStage, STOP, text, useVirtualClock, wait } from '../support/stage-kit.ts';

const ENGLISH = PHRASES.en.filler[0]!; // "One moment."
const CHINESE = PHRASES.zh.filler[0]!; // "请稍等。"

describe('filler', () => {
  it('says the phrase once when the first words are slow, then the answer, joined with a space', async (t) => {
    const clock = useVirtualClock(t);
    let said = 0;
    const out = await runStage(
      fillerStage(1000, ENGLISH, () => said++),
      [wait(1500), text('Your order '), text('shipped.'), STOP],
      { clock },
    );
    assert.deepEqual(out.parts, [text(ENGLISH), text(' Your order '), text('shipped.'), STOP]);
    assert.equal(said, 1);
  });

  it('says nothing when the answer starts in time', async (t) => {
    const clock = useVirtualClock(t);
    let said = 0;
    const input = [wait(999), text('Right away.'), STOP];
    const out = await runStage(
      fillerStage(1000, ENGLISH, () => said++),
      input,
      { clock },
    );
    assert.deepEqual(out.parts, [text('Right away.'), STOP]);
    assert.equal(said, 0);
  });

  it('never says it twice, however slow the rest of the answer is', async (t) => {
    const clock = useVirtualClock(t);
    const out = await runStage(
      fillerStage(1000, ENGLISH),
      [wait(1200), text('First, '), wait(5000), text('second, '), wait(5000), text('third.'), STOP],
      { clock },
    );
    assert.equal(out.text, `${ENGLISH} First, second, third.`);
    assert.equal(out.parts.filter((part) => part.type === 'text' && part.text === ENGLISH).length, 1);
  });

  it('joins a Chinese filler to a Chinese answer without a space', async (t) => {
    const clock = useVirtualClock(t);
    const out = await runStage(fillerStage(1000, CHINESE), [wait(2000), text('您的订单'), text('已发货。'), STOP], { clock });
    assert.equal(out.text, `${CHINESE}您的订单已发货。`);
  });

  it('times only the wait for the first part: a slow part later says nothing', async (t) => {
    const clock = useVirtualClock(t);
    const out = await runStage(fillerStage(1000, ENGLISH), [text('Hello. '), wait(5000), text('Still here.'), STOP], { clock });
    assert.equal(out.text, 'Hello. Still here.');
  });

  it('passes a failure of the slow answer on after the phrase', async (t) => {
    const clock = useVirtualClock(t);
    const out = await runStage(fillerStage(1000, ENGLISH), [wait(3000), fail(httpFailure(503))], { clock });
    assert.equal(out.text, ENGLISH);
    assert.equal((out.error as { code: string }).code, 'upstream_error');
  });

  it('leaves no timer behind when the answer is quick', async (t) => {
    const clock = useVirtualClock(t);
    const out = await runStage(fillerStage(1000, ENGLISH), [text('Hi.'), STOP]);
    assert.equal(out.text, 'Hi.');
    assert.equal(clock.pending(), 0);
  });
});
