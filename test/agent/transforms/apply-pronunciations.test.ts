import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { applyPronunciations, type PronunciationRule } from '../../../src/agent/transforms/apply-pronunciations.ts';
import type { StreamPart } from '../../../src/core/stream-part.ts';
import { chunksAt, gatedSource } from '../../support/chunked-text.ts';

const text = (t: string): StreamPart => ({ type: 'text', text: t });

async function* from(parts: StreamPart[]): AsyncGenerator<StreamPart> {
  for (const part of parts) yield part;
}

const rule = (written: string, spoken: string, options: Partial<PronunciationRule> = {}): PronunciationRule => ({
  written,
  spoken,
  ignoreCase: false,
  wholeWord: true,
  ...options,
});

const RULES: PronunciationRule[] = [
  rule('110', '幺幺零'),
  rule('ACME', 'Akmee', { ignoreCase: true }),
  rule('AC', 'A C'),
  rule('ACMECorp', 'Akmee Corporation'),
  rule('阿里云', 'A-li-yun', { wholeWord: false }),
  rule('ms', 'milliseconds', { wholeWord: false }),
];

async function run(parts: StreamPart[], rules = RULES): Promise<StreamPart[]> {
  const out: StreamPart[] = [];
  for await (const part of applyPronunciations(from(parts), rules)) out.push(part);
  return out;
}

async function spoken(chunks: string[], rules = RULES): Promise<string> {
  const out = await run(chunks.map(text), rules);
  assert.ok(
    out.every((part) => part.type === 'text' && part.text !== ''),
    'only non-empty text parts',
  );
  return out.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** The whole text, every 2-chunk split and one character per chunk give `expected`. */
async function assertSpoken(input: string, expected: string): Promise<void> {
  assert.equal(await spoken([input]), expected, 'whole input');
  for (let cut = 0; cut <= input.length; cut++)
    assert.equal(await spoken([input.slice(0, cut), input.slice(cut)]), expected, `split at ${cut}`);
  assert.equal(await spoken(Array.from(input)), expected, 'one character per chunk');
}

describe('applyPronunciations', () => {
  it('replaces whole words and numbers; CJK neighbours are word boundaries', async () => {
    await assertSpoken('请拨打110报警, not 1100, 2110 or 110a.', '请拨打幺幺零报警, not 1100, 2110 or 110a.');
  });

  it('the longest rule wins, letter case as configured', async () => {
    await assertSpoken(
      'ACMECorp, acme, Acme and AC; ac stays, ACMEs stays.',
      'Akmee Corporation, Akmee, Akmee and A C; ac stays, ACMEs stays.',
    );
  });

  it('wholeWord: false matches inside words; replaced text is not matched again', async () => {
    await assertSpoken('阿里云的延迟 5ms, items', 'A-li-yun的延迟 5milliseconds, itemilliseconds');
    assert.equal(await spoken(['a b'], [rule('a', 'b', { wholeWord: false }), rule('b', 'c', { wholeWord: false })]), 'b c');
  });

  it('passes IMS commands intact', async () => {
    await assertSpoken('<imsagent_transfer_call callee="110"/> 110', '<imsagent_transfer_call callee="110"/> 幺幺零');
  });

  it('holds back only a suffix that may still become a match', async () => {
    const { parts, release } = gatedSource(text('Call 11'), text('0 now'));
    const iterator = applyPronunciations(parts, RULES)[Symbol.asyncIterator]();
    assert.deepEqual((await iterator.next()).value, text('Call '));
    release();
    assert.deepEqual((await iterator.next()).value, text('幺幺零 now'));
  });

  it('flushes before a part that is not text, in order', async () => {
    const call: StreamPart = { type: 'tool-call-start', callId: 'c', name: 'f' };
    assert.deepEqual(await run([text('dial 110'), call, text(' AC')]), [text('dial '), text('幺幺零'), call, text(' '), text('A C')]);
  });

  it('gives the same output for any chunking (property)', async () => {
    const tokens = ['110', '1', '0', 'AC', 'ME', 'acme', 'Corp', 'ms', ' ', '阿里', '云', '<imsagent_x a="110"/>', '<', 'x'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...tokens), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (pieces, cuts) => {
          const whole = pieces.join('');
          assert.equal(await spoken(chunksAt(whole, cuts)), await spoken([whole]));
        },
      ),
    );
  });

  it('stays linear on long text', async () => {
    const long = 'AC 110 acme x '.repeat(20_000);
    const started = performance.now();
    const out = await spoken(long.match(/.{1,7}/gs)!);
    assert.ok(out === 'A C 幺幺零 Akmee x '.repeat(20_000));
    assert.ok(performance.now() - started < 2000, 'a quarter of a million characters in under 2 s');
  });
});
