import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CallerLanguage } from '../../../src/agent/language/caller-language.ts';
import { readDigits } from '../../../src/agent/transforms/read-digits.ts';
import type { StreamPart } from '../../../src/core/stream-part.ts';
import { chunksAt, gatedSource } from '../../support/chunked-text.ts';

const text = (t: string): StreamPart => ({ type: 'text', text: t });

async function* from(parts: StreamPart[]): AsyncGenerator<StreamPart> {
  for (const part of parts) yield part;
}

async function spoken(chunks: string[], language: CallerLanguage = 'en', minDigits = 7): Promise<string> {
  let out = '';
  for await (const part of readDigits(from(chunks.map(text)), { language, minDigits })) {
    assert.ok(part.type === 'text' && part.text !== '', 'only non-empty text parts');
    out += part.text;
  }
  return out;
}

async function assertSpoken(input: string, expected: string, language: CallerLanguage = 'en'): Promise<void> {
  assert.equal(await spoken([input], language), expected, 'whole input');
  for (let cut = 0; cut <= input.length; cut++)
    assert.equal(await spoken([input.slice(0, cut), input.slice(cut)], language), expected, `split at ${cut}`);
  assert.equal(await spoken(Array.from(input), language), expected, 'one character per chunk');
}

describe('readDigits', () => {
  it('reads phone numbers digit by digit, keeping the groups as pauses', async () => {
    await assertSpoken('Call 138-0013-8000 or +86 138 0013 8000.', 'Call 1 3 8, 0 0 1 3, 8 0 0 0 or +8 6, 1 3 8, 0 0 1 3, 8 0 0 0.');
    await assertSpoken('请拨打13800138000，谢谢', '请拨打幺三八零零幺三八零零零，谢谢', 'zh');
  });

  it('reads short numbers and codes after a word that introduces them', async () => {
    await assertSpoken('Your code is 482913. Dial 911, extension 802.', 'Your code is 4 8 2 9 1 3. Dial 9 1 1, extension 8 0 2.');
    await assertSpoken(
      '验证码是482913，客服热线95555，报警请拨打110。',
      '验证码是四八二九幺三，客服热线九五五五五，报警请拨打幺幺零。',
      'zh',
    );
  });

  it('leaves money, years, dates, quantities, decimals and codes glued to letters as written', async () => {
    const untouched = [
      'We open at 9, in 2024 we served 12345 people. Code of conduct, 2 rules.',
      'It costs $1234567, ¥ 7654321, USD 1234567 or 1234567元, 1500000万.',
      'On 2024-05-01, in 2023-2024, 1,234,567.89 and 3.1415926 and 1234567.5',
      'Order A1234567 and 1234567x; call me in 5 minutes.',
    ];
    for (const input of untouched) await assertSpoken(input, input);
  });

  it('passes IMS commands intact', async () => {
    await assertSpoken('<imsagent_transfer_call callee="13800138000"/>', '<imsagent_transfer_call callee="13800138000"/>');
  });

  it('holds only a digit run at the end of a chunk', async () => {
    const { parts, release } = gatedSource(text('Call us on 138'), text('00138000 today.'));
    const iterator = readDigits(parts, { language: 'en', minDigits: 7 })[Symbol.asyncIterator]();
    assert.deepEqual((await iterator.next()).value, text('Call us on '));
    release();
    assert.deepEqual((await iterator.next()).value, text('1 3 8 0 0 1 3 8 0 0 0 today.'));
  });

  it('gives the same output for any chunking (property)', async () => {
    const tokens = [
      '138',
      '0013',
      '8000',
      '-',
      ' ',
      '+',
      '86',
      '.',
      ',',
      '5',
      'code ',
      '验证码',
      '$',
      '元',
      'a',
      '<imsagent_x n="1234567"/>',
      '2024-05-01',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...tokens), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.constantFrom<CallerLanguage>('en', 'zh'),
        async (pieces, cuts, language) => {
          const whole = pieces.join('');
          const chunks = chunksAt(whole, cuts);
          assert.equal(await spoken(chunks, language), await spoken([whole], language));
        },
      ),
    );
  });

  it('stays linear on long text, runs of digits included', async () => {
    const long = 'Call 13800138000, 12 cats, '.repeat(5000) + '9'.repeat(100_000);
    const started = performance.now();
    const out = await spoken(long.match(/.{1,5}/gs)!);
    assert.ok(out.startsWith('Call 1 3 8 0 0 1 3 8 0 0 0, 12 cats, '));
    assert.ok(out.endsWith('9'.repeat(1000)), 'an endless run is left as written');
    assert.ok(performance.now() - started < 3000);
  });
});
