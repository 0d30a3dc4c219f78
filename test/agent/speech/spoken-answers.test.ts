import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { shapeSpeech, shapeSpeechText } from '../../../src/agent/transforms/shape-speech.ts';
import type { StreamPart } from '../../../src/core/stream-part.ts';
import { SPOKEN_ANSWERS } from './spoken-answers.data.ts';

async function* from(chunks: string[]): AsyncGenerator<StreamPart> {
  for (const text of chunks) yield { type: 'text', text };
  yield { type: 'finish', reason: 'stop' };
}

/** The text the stream transform yields for `chunks`, before its finish part. */
async function streamed(chunks: string[], options: Parameters<typeof shapeSpeechText>[1]): Promise<string> {
  let text = '';
  for await (const part of shapeSpeech(from(chunks), options)) {
    if (part.type === 'text') {
      assert.notEqual(part.text, '', 'no empty text parts');
      text += part.text;
    }
  }
  return text;
}

/** Cuts `input` at the given offsets (UTF-16 code units: surrogate pairs may be split too). */
function cut(input: string, offsets: number[]): string[] {
  const cuts = [...new Set(offsets.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  return [0, ...cuts].map((start, i) => input.slice(start, cuts[i] ?? input.length));
}

describe('what the caller hears (issue 10): realistic answers', () => {
  it('has at least 100 answers, in English and Chinese', () => {
    assert.ok(SPOKEN_ANSWERS.length >= 100);
    assert.ok(SPOKEN_ANSWERS.some((a) => a.options.language === 'zh'));
    assert.ok(SPOKEN_ANSWERS.some((a) => a.options.language === 'en'));
  });

  for (const answer of SPOKEN_ANSWERS) {
    it(`${answer.name}: whole, one code unit per chunk, and random chunks`, async () => {
      assert.equal(shapeSpeechText(answer.input, answer.options), answer.expected, 'whole text');
      assert.equal(
        await streamed(
          [...answer.input].map((c) => c),
          answer.options,
        ),
        answer.expected,
        'one code point per chunk',
      );
      assert.equal(await streamed(answer.input.split(''), answer.options), answer.expected, 'one code unit per chunk');
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(), { maxLength: 12 }), async (offsets) => {
          assert.equal(await streamed(cut(answer.input, offsets), answer.options), answer.expected);
        }),
        { numRuns: 25 },
      );
    });
  }
});
