import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stripThinkBlocks } from '../../src/agent/transforms/strip-think-blocks.ts';
import type { ReasoningMode } from '../../src/config/schema.ts';
import type { StreamPart } from '../../src/core/stream-part.ts';
import { chunksAt, gatedSource } from '../support/chunked-text.ts';

async function* from(parts: StreamPart[]): AsyncGenerator<StreamPart> {
  for (const part of parts) yield part;
}

const text = (t: string): StreamPart => ({ type: 'text', text: t });

async function run(parts: StreamPart[], mode: ReasoningMode = 'auto', onStrayClose?: () => void): Promise<StreamPart[]> {
  const out: StreamPart[] = [];
  for await (const part of stripThinkBlocks(from(parts), { mode: () => mode, ...(onStrayClose ? { onStrayClose } : {}) })) out.push(part);
  return out;
}

function joined(parts: StreamPart[], type: 'text' | 'reasoning'): string {
  return parts.map((p) => (p.type === type ? p.text : '')).join('');
}

describe('stripThinkBlocks', () => {
  it('turns a whole block into reasoning and drops the blank lines after it', async () => {
    const out = await run([text('<think>a b</think>\n\nHello'), { type: 'finish', reason: 'stop' }]);
    assert.deepEqual(out, [
      { type: 'reasoning', text: 'a b' },
      { type: 'text', text: 'Hello' },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('is correct for a 2-chunk split at every position', async () => {
    const whole = '<think>a b</think>\n\nHello';
    for (let cut = 0; cut <= whole.length; cut++) {
      const out = await run([text(whole.slice(0, cut)), text(whole.slice(cut)), { type: 'finish', reason: 'stop' }]);
      assert.equal(joined(out, 'reasoning'), 'a b', `reasoning, cut at ${cut}`);
      assert.equal(joined(out, 'text'), 'Hello', `text, cut at ${cut}`);
      assert.ok(
        out.every((p) => !(p.type === 'text' || p.type === 'reasoning') || p.text !== ''),
        `no empty parts, cut at ${cut}`,
      );
      assert.deepEqual(out.at(-1), { type: 'finish', reason: 'stop' });
      // The answer never carries a tag fragment.
      assert.doesNotMatch(joined(out, 'text'), /[<>]/);
    }
  });

  it('is correct when every character is its own chunk', async () => {
    const whole = 'Hi <think>x < y</think> \n there';
    const out = await run(Array.from(whole, text));
    assert.equal(joined(out, 'reasoning'), 'x < y');
    assert.equal(joined(out, 'text'), 'Hi there');
  });

  it('passes text without tags through unchanged and without delay', async () => {
    let sourceDone = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* source(): AsyncGenerator<StreamPart> {
      yield text('Hello, ');
      await gate;
      yield text('world.');
      sourceDone = true;
    }
    const iterator = stripThinkBlocks(source())[Symbol.asyncIterator]();
    const first = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('first part was held back')), 1000)),
    ]);
    assert.deepEqual(first, { done: false, value: { type: 'text', text: 'Hello, ' } });
    assert.equal(sourceDone, false);
    release();
    assert.deepEqual(await iterator.next(), { done: false, value: { type: 'text', text: 'world.' } });
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  });

  it('yields text before a possible tag start at once and holds only the suffix', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* source(): AsyncGenerator<StreamPart> {
      yield text('Sure <thi');
      await gate;
      yield text('s is fine');
    }
    const iterator = stripThinkBlocks(source())[Symbol.asyncIterator]();
    assert.deepEqual((await iterator.next()).value, { type: 'text', text: 'Sure ' });
    release();
    assert.deepEqual((await iterator.next()).value, { type: 'text', text: '<this is fine' });
    assert.equal((await iterator.next()).done, true);
  });

  it('keeps a "<" that is not a tag', async () => {
    const out = await run([text('1 <'), text(' 2 and a<b, <p> <thinker'), text('> ok <thinkin')]);
    assert.equal(joined(out, 'text'), '1 < 2 and a<b, <p> <thinker> ok <thinkin');
    assert.equal(joined(out, 'reasoning'), '');
  });

  it('recognises <thinking> and <reasoning> blocks, any letter case, spaces inside the brackets', async () => {
    const out = await run([text('<Thinking>a</ thinking >Hi. < REASONING>b< /Reasoning>'), text('There.')]);
    assert.equal(joined(out, 'reasoning'), 'ab');
    assert.equal(joined(out, 'text'), 'Hi. There.');
  });

  it('auto: never speaks a closing tag nobody opened, and reports it', async () => {
    let stray = 0;
    const whole = 'The user asks about hours. I should be brief.\n</think>\n\nWe open at 9.';
    for (let cut = 0; cut <= whole.length; cut++) {
      const out = await run([text(whole.slice(0, cut)), text(whole.slice(cut))], 'auto', () => stray++);
      assert.equal(joined(out, 'text'), 'The user asks about hours. I should be brief.\nWe open at 9.', `cut at ${cut}`);
    }
    assert.equal(stray, whole.length + 1);
  });

  it('unopened: everything before the first closing tag is reasoning, however the text is split', async () => {
    const whole = 'The user asks about hours. I should be brief.\n</think>\n\nWe open at 9.';
    for (let cut = 0; cut <= whole.length; cut++) {
      const out = await run([text(whole.slice(0, cut)), text(whole.slice(cut)), { type: 'finish', reason: 'stop' }], 'unopened');
      assert.equal(joined(out, 'text'), 'We open at 9.', `cut at ${cut}`);
      assert.equal(joined(out, 'reasoning'), 'The user asks about hours. I should be brief.\n', `cut at ${cut}`);
    }
  });

  it('unopened: an answer without a closing tag is spoken when the model stops or calls a tool', async () => {
    assert.deepEqual(await run([text('We open '), text('at 9.'), { type: 'finish', reason: 'stop' }], 'unopened'), [
      text('We open at 9.'),
      { type: 'finish', reason: 'stop' },
    ]);
    const call: StreamPart = { type: 'tool-call-start', callId: 'c', name: 'lookup' };
    assert.deepEqual(await run([text('One moment.'), call], 'unopened'), [text('One moment.'), call]);
    assert.deepEqual(await run([text('We open at 9.')], 'unopened'), [text('We open at 9.')], 'at the end of the stream');
  });

  it('unopened: reasoning cut off by max_tokens is never spoken', async () => {
    const out = await run([text('Let me think about'), { type: 'finish', reason: 'length' }], 'unopened');
    assert.deepEqual(out, [
      { type: 'reasoning', text: 'Let me think about' },
      { type: 'finish', reason: 'length' },
    ]);
  });

  it('unopened: no hold when the server sends reasoning apart or the text opens its own block', async () => {
    const { parts, release } = gatedSource(text('We open'), text(' at 9.'));
    async function* source(): AsyncGenerator<StreamPart> {
      yield { type: 'reasoning', text: 'thinking apart' };
      yield* parts;
    }
    const iterator = stripThinkBlocks(source(), { mode: () => 'unopened' })[Symbol.asyncIterator]();
    assert.deepEqual((await iterator.next()).value, { type: 'reasoning', text: 'thinking apart' });
    assert.deepEqual((await iterator.next()).value, text('We open'), 'the answer streams before the model finishes');
    release();
    assert.deepEqual((await iterator.next()).value, text(' at 9.'));

    const opened = await run([text('\n<think>r</think>'), text('\nHi <think>s</think> there')], 'unopened');
    assert.equal(joined(opened, 'reasoning'), 'rs');
    assert.equal(joined(opened, 'text'), 'Hi there');
  });

  it('stays linear on long reasoning held in unopened mode', async () => {
    const reasoning = 'a < b, so <th not a tag. '.repeat(10_000);
    const whole = `${reasoning}</think>\n\nWe open at 9.`;
    const started = performance.now();
    const out = await run([...whole.match(/.{1,5}/gs)!.map(text), { type: 'finish', reason: 'stop' }], 'unopened');
    assert.equal(joined(out, 'text'), 'We open at 9.');
    assert.ok(joined(out, 'reasoning') === reasoning);
    assert.ok(performance.now() - started < 2000, 'a quarter of a million characters in under 2 s');
  });

  it('gives the same output for any chunking, in both modes (property)', async () => {
    const tokens = [
      'a',
      ' ',
      '\n',
      '<',
      '>',
      '/',
      'think',
      'THINKING',
      '<think>',
      '</think>',
      '< /reasoning >',
      '<thi',
      'nk>',
      '你好',
      '.',
    ];
    const outcome = (parts: StreamPart[]) => [joined(parts, 'text'), joined(parts, 'reasoning')];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...tokens), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.constantFrom<ReasoningMode>('auto', 'unopened'),
        async (pieces, cuts, mode) => {
          const whole = pieces.join('');
          const chunks = chunksAt(whole, cuts);
          const end: StreamPart = { type: 'finish', reason: 'stop' };
          assert.deepEqual(outcome(await run([...chunks.map(text), end], mode)), outcome(await run([text(whole), end], mode)));
        },
      ),
    );
  });

  it('flushes held-back text before a non-text part, in order', async () => {
    const call: StreamPart = { type: 'tool-call-start', callId: 'c1', name: 'hangup' };
    const out = await run([text('Bye <'), call, { type: 'finish', reason: 'tool_calls' }]);
    assert.deepEqual(out, [text('Bye '), text('<'), call, { type: 'finish', reason: 'tool_calls' }]);
  });

  it('treats an unclosed block at the end as reasoning, including a partial closing tag', async () => {
    const out = await run([text('Hmm <think>still going'), text(' on </thi')]);
    assert.equal(joined(out, 'text'), 'Hmm ');
    assert.equal(joined(out, 'reasoning'), 'still going on </thi');
  });

  it('drops the whitespace run after </think> even across chunks, but not later whitespace', async () => {
    const out = await run([text('<think>r</think>'), text('\n'), text(' \n'), text('Answer\n\nmore')]);
    assert.equal(joined(out, 'text'), 'Answer\n\nmore');
  });

  it('passes other parts through unchanged and in order', async () => {
    const parts: StreamPart[] = [
      { type: 'reasoning', text: 'native reasoning' },
      text('A'),
      { type: 'usage', usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 } },
      text('B'),
      { type: 'finish', reason: 'stop' },
    ];
    assert.deepEqual(await run(parts), parts);
  });

  it('handles several blocks in one stream', async () => {
    const out = await run([text('<think>one</think>A <think>two</think> B')]);
    assert.equal(joined(out, 'reasoning'), 'onetwo');
    assert.equal(joined(out, 'text'), 'A B');
  });
});
