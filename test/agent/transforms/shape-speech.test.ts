import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { shapeSpeech } from '../../../src/agent/transforms/shape-speech.ts';
import type { StreamPart } from '../../../src/core/stream-part.ts';

const text = (t: string): StreamPart => ({ type: 'text', text: t });

async function* from(parts: StreamPart[]): AsyncGenerator<StreamPart> {
  for (const part of parts) yield part;
}

async function run(parts: StreamPart[]): Promise<StreamPart[]> {
  const out: StreamPart[] = [];
  for await (const part of shapeSpeech(from(parts))) out.push(part);
  return out;
}

/** The transform over text chunks: the joined output. Also checks no empty text part is yielded. */
async function shape(chunks: string[]): Promise<string> {
  const out = await run(chunks.map(text));
  for (const part of out) {
    assert.equal(part.type, 'text');
    assert.notEqual(part.type === 'text' && part.text, '', 'no empty text parts');
  }
  return out.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

/** Splits by UTF-16 code unit, so surrogate pairs and ZWJ sequences are cut too. */
function units(whole: string): string[] {
  return Array.from({ length: whole.length }, (_, i) => whole.slice(i, i + 1));
}

/** Asserts the output for the whole text, every 2-chunk split and 1-unit chunks. */
async function assertShaped(input: string, expected: string): Promise<void> {
  assert.equal(await shape([input]), expected, 'whole input');
  for (let cut = 0; cut <= input.length; cut++) {
    assert.equal(await shape([input.slice(0, cut), input.slice(cut)]), expected, `split at ${cut}`);
  }
  assert.equal(await shape(units(input)), expected, 'one code unit per chunk');
}

const CODE_FALLBACK = "That part is code, which I can't read out well on a call.";

const hangup = '<imsagent_hangup endword="Bye *now*, [ok](x) 👍"/>';
const transfer = '<imsagent_transfer_call caller="1" callee="2" msg="Hold on **please**" err_msg="_Sorry_ &amp; bye"/>';

const CASES: Array<[name: string, input: string, expected: string]> = [
  ['ATX headings', '# Top\nIntro\n## Sub Title\n###### Six\nText', 'Top\nIntro\nSub Title\nSix\nText'],
  ['a hash that is not a heading', '#hashtag and C# and ####### seven', '#hashtag and C# and ####### seven'],
  [
    'emphasis, strong and strikethrough markers',
    'This is **bold**, *italic*, ***both***, __strong__, _em_ and ~~gone~~ text.',
    'This is bold, italic, both, strong, em and gone text.',
  ],
  [
    'snake_case and arithmetic stay',
    'Use snake_case or my_var_2; 2 * 3 = 6, 2*3 too, a ** b.',
    'Use snake_case or my_var_2; 2 * 3 = 6, 2*3 too, a ** b.',
  ],
  ['a single tilde stays', 'About ~5 minutes.', 'About ~5 minutes.'],
  ['inline code keeps its text', 'Run `npm test` or ``a`b`` now', 'Run npm test or ab now'],
  ['a backtick fenced block is dropped', 'Here:\n```ts\nconst x = 1;\n```\nDone.', 'Here:\nDone.'],
  ['a tilde fenced block is dropped', 'Here:\n~~~\nx = 1\n~~~~\nDone.', 'Here:\nDone.'],
  ['a fence closes only with a fence as long', 'A\n````\n```\ninner\n````\nB', 'A\nB'],
  // Was 'Try:\n': the caller heard "Try:" and then nothing (issue 10.3).
  ['an unclosed fence drops the rest and says why', 'Try:\n```sh\nrm -rf x\n', `Try:\n${CODE_FALLBACK}`],
  ['a fenced block leaves no run of blank lines', 'Text\n\n```js\nx()\n```\n\nMore', 'Text\n\nMore'],
  [
    'list markers',
    'Steps:\n- one\n* two\n+ three\n1. four\n2) five\n  - nested\n10. ten',
    'Steps:\none\ntwo\nthree\nfour\nfive\nnested\nten',
  ],
  ['list items with markdown inside', '- **Name**: Ann\n- [ ] task', 'Name: Ann\ntask'],
  ['not list markers', '-5 degrees\n3.5 percent\n2024 was good\n*bold* start', '-5 degrees\n3.5 percent\n2024 was good\nbold start'],
  ['blockquotes', '> quoted\n> > nested\n> - item', 'quoted\nnested\nitem'],
  ['horizontal rules', 'Above\n\n---\n\nBelow\n***\n* * *\n___\nEnd', 'Above\n\nBelow\nEnd'],
  ['a setext underline', 'Title\n=====\nBody', 'Title\nBody'],
  ['tables', '| Name | Age |\n|---|:--:|\n| Ann | 30 |\n| **Bo** |  | 7 |\n', 'Name, Age\nAnn, 30\nBo, 7\n'],
  ['links', 'See [the docs](https://x.io/a_(b)) and [`cfg`](./c.md).', 'See the docs and cfg.'],
  // Was 'Cite 1 and 2 (an aside).': citation markers read as numbers (issue 10.5).
  ['citation markers are dropped, other brackets kept', 'Cite [1] and [2] (an aside) [sic].', 'Cite and (an aside) sic.'],
  ['images are dropped', 'Look ![a cat](http://x/c.png) here\n![logo](l.svg)\nEnd', 'Look here\nEnd'],
  ['an exclamation mark stays', 'Wow! Great!', 'Wow! Great!'],
  // Was 'Go to now': the caller lost where to go (issue 10.7, URLs say their host).
  ['autolinks say their host', 'Go to <https://example.com/x?y=1> now', 'Go to example.com now'],
  // Was kept verbatim: `<b>` was read out (issue 10.6).
  ['angle brackets that are not links or HTML', '1 < 2, a<b, <b>x</b> and <no:>', '1 < 2, a<b, x and <no:>'],
  // Was 'Great job from ok': a keycap is a key ("Press 1️⃣") and keeps its character (issue 10.2).
  ['emoji', 'Great 👍🏽 job 👨‍👩‍👧 from 🇨🇳 1️⃣ ❤️ ok', 'Great job from 1 ok'],
  ['emoji at a line start and at the end', '😀 Hi\n✅ Done 🎉', 'Hi\nDone '],
  ['emoji-only lines leave no blank-line run', 'Hi!\n\n🎉🎉\n\nBye', 'Hi!\n\nBye'],
  ['a line emptied by removals goes with its newline', 'Hi!\n🎉 ✅\n👍\nBye', 'Hi!\nBye'],
  // Was 'x क्‍ष': the pound key was lost (issue 10.2).
  ['a keycap hash and a zero-width joiner in text', '#️⃣ x क्‍ष', '# x क्‍ष'],
  ['CJK with markdown', '**你好**，欢迎！\n## 标题\n- 第一', '你好，欢迎！\n标题\n第一'],
  ['CJK unchanged', '你好！今天怎么样？', '你好！今天怎么样？'],
  ['newlines are kept', 'One.\n\n\nTwo.\nThree.', 'One.\n\n\nTwo.\nThree.'],
  ['an IMS hangup command', `Goodbye! ${hangup}`, `Goodbye! ${hangup}`],
  ['an IMS transfer command after markdown', `**Transferring** you.\n${transfer}`, `Transferring you.\n${transfer}`],
  ['an overlong IMS-like tag is released as text', `<imsagent_${'x'.repeat(600)} *hi*`, `<imsagent_${'x'.repeat(600)} hi`],
  ['an overlong link destination is text', `[a](${'x'.repeat(400)}`, `a(${'x'.repeat(400)}`],
];

describe('shapeSpeech', () => {
  for (const [name, input, expected] of CASES) {
    it(`${name}: whole, split in two anywhere, and one code unit per chunk`, async () => {
      await assertShaped(input, expected);
    });
  }

  it('keeps markers split across chunks in any way', async () => {
    assert.equal(await shape(['*', '*bold**', ' x']), 'bold x');
    assert.equal(await shape(['Read [li', 'nk](ht', 'tp://x)', ' now']), 'Read link now');
    assert.equal(await shape(['Intro\n#', '# Head', '\nText']), 'Intro\nHead\nText');
    assert.equal(await shape(['Hi \uD83D', '\uDC4D there']), 'Hi there');
    assert.equal(await shape(['👨\u200d', '👩\u200d', '👧 ok']), 'ok');
    assert.equal(await shape(['<imsagent_hang', 'up endword="a"', '/>']), '<imsagent_hangup endword="a"/>');
  });

  it('passes IMS commands byte for byte whole and split char by char', async () => {
    for (const command of [hangup, transfer]) {
      const input = `OK *then* ${command}`;
      assert.equal(await shape([input]), `OK then ${command}`);
      assert.equal(await shape(units(input)), `OK then ${command}`);
    }
  });

  it('gives the same output for any chunking (property)', async () => {
    const tokens = [
      'word',
      ' ',
      '\n',
      '*',
      '_',
      '~',
      '`',
      '#',
      '-',
      '+',
      '>',
      '|',
      '[',
      ']',
      '(',
      ')',
      '!',
      '<',
      '1',
      '.',
      ':',
      'http',
      '你',
      '👍',
      '\u{1F3FD}',
      '\u200d',
      '\ufe0f',
      '\u20e3',
      '🇨',
      '```',
      '---',
      '<imsagent_hangup endword="x"/>',
      '<https://a.b>',
      '2 * 3',
      'snake_case',
      // Rules of issue 10: math, money, escapes, citations, HTML, entities, URLs, symbols, workflow tags.
      '$',
      '$$',
      '5',
      '\\',
      '\\(',
      '\\)',
      '\\[',
      '\\]',
      '\\times',
      '\\frac{1}{2}',
      '^2',
      '{',
      '}',
      '&',
      '&amp;',
      '&#39;',
      '<br>',
      '<b>',
      '</td>',
      '<td>',
      '<!--',
      '-->',
      '<No Interrupting>',
      '<flush />',
      '{{emotion=happy}}',
      'https://',
      'www.',
      'h',
      'w',
      'a.com',
      '/x?y=1',
      '->',
      '=>',
      '→',
      '•',
      '★',
      '☆',
      '✓',
      '·',
      '[1]',
      '[^1]',
      '[ref_1]',
      ']:',
      '[x] ',
      '号',
      '*100#',
      '1️⃣',
      '42. ',
      '1. ',
      '###',
      '营业',
      '&nbsp;',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...tokens), { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (parts, rawCuts) => {
          const input = parts.join('');
          const cuts = [...new Set(rawCuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...cuts].map((start, i) => input.slice(start, cuts[i] ?? input.length));
          assert.equal(await shape(chunks), await shape([input]));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('passes plain words, punctuation and newlines through unchanged (property)', async () => {
    const plain = fc.constantFrom('Hello', 'there', ' ', ',', '.', '?', '\n', '你好', '！', 'ok', "it's");
    await fc.assert(
      fc.asyncProperty(fc.array(plain, { maxLength: 30 }), async (parts) => {
        const input = parts.join('');
        assert.equal(await shape(parts), input);
      }),
      { numRuns: 200 },
    );
  });

  /** Runs the transform over `first`, then a source that waits on a gate before `second`. */
  async function beforeRelease(first: string, second: string) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let pulledSecond = false;
    async function* source(): AsyncGenerator<StreamPart> {
      yield text(first);
      await gate;
      pulledSecond = true;
      yield text(second);
    }
    const iterator = shapeSpeech(source())[Symbol.asyncIterator]();
    const early = await Promise.race([iterator.next(), new Promise<'held'>((resolve) => setTimeout(() => resolve('held'), 200))]);
    assert.equal(pulledSecond, false);
    release();
    const rest: StreamPart[] = [];
    if (early !== 'held' && early.done) return { early, rest };
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    return { early, rest };
  }

  it('yields plain text at once, before the next part is pulled', async () => {
    const { early, rest } = await beforeRelease('Hello there', ' again');
    assert.deepEqual(early, { done: false, value: text('Hello there') });
    assert.deepEqual(rest, [text(' again')]);
  });

  it('holds back only the suffix that may still become a marker', async () => {
    const star = await beforeRelease('Sure, *', '*really** now');
    assert.deepEqual(star.early, { done: false, value: text('Sure, ') });
    assert.deepEqual(star.rest, [text('really now')]);

    const link = await beforeRelease('See [the docs', '](https://x) now');
    assert.deepEqual(link.early, { done: false, value: text('See the docs') });
    assert.deepEqual(link.rest, [text(' now')]);
  });

  it('holds back nothing more for the rules of issue 10 (money, keys, citations, links, tags)', async () => {
    const cases: Array<[first: string, early: string]> = [
      ['It costs $5 a month', 'It costs $5 a month'],
      ['To go back, press * and', 'To go back, press * and'],
      ['Dial *100', 'Dial *10'], // a digit at the chunk's end may wait
      ['We open at 9 [1', 'We open at 9 '],
      ['ok ', 'ok '], // a blank at a chunk's end goes out at once
      ['[Click here', 'Click here'],
      ['{{emotion=happy}}Hi', '{{emotion=happy}}Hi'],
      ['<No Interrupting>Please', '<No Interrupting>Please'],
      ['Thanks🙏Have', 'Thanks Have'],
      ['a <b and c', 'a <b and c'],
      ['The variable $HOME. Then', 'The variable $HOME. Then'],
    ];
    for (const [first, expected] of cases) {
      const { early } = await beforeRelease(first, ' more');
      assert.deepEqual(early, { done: false, value: text(expected) }, first);
    }
  });

  it('bounds the hold-back of an unfinished command or image', async () => {
    const command = `<imsagent_${'x'.repeat(600)}`;
    const ims = await beforeRelease(command, ' end');
    assert.deepEqual(ims.early, { done: false, value: text(command) });
    assert.deepEqual(ims.rest, [text(' end')]);

    const alt = 'y'.repeat(400);
    const image = await beforeRelease(`![${alt}`, '] end');
    assert.deepEqual(image.early, { done: false, value: text(`!${alt}`) });
    assert.deepEqual(image.rest, [text(' end')]);
  });

  it('flushes pending text before other parts and passes them through in order', async () => {
    const start: StreamPart = { type: 'tool-call-start', callId: 'c1', name: 'hangup' };
    const delta: StreamPart = { type: 'tool-call-delta', callId: 'c1', argumentsDelta: '{}' };
    const end: StreamPart = { type: 'tool-call-end', callId: 'c1' };
    const usage: StreamPart = { type: 'usage', usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 } };
    const finish: StreamPart = { type: 'finish', reason: 'tool_calls' };
    const reasoning: StreamPart = { type: 'reasoning', text: '**not shaped** 👍' };
    const out = await run([reasoning, text('Sure!'), start, delta, end, text('**Bye**'), usage, text('\n'), finish]);
    assert.deepEqual(out, [reasoning, text('Sure'), text('!'), start, delta, end, text('Bye'), usage, text('\n'), finish]);
  });

  // Was: nothing at all. An answer that is only code now says so (issue 10.3).
  it('says the code fallback, before the finish, for an answer that is only code', async () => {
    assert.deepEqual(await run([text('```'), text('\ncode\n'), text('```'), { type: 'finish', reason: 'stop' }]), [
      text(CODE_FALLBACK),
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('yields nothing for text that is all markup', async () => {
    assert.deepEqual(await run([text('---\n'), text('## '), text('👍'), { type: 'finish', reason: 'stop' }]), [
      { type: 'finish', reason: 'stop' },
    ]);
  });
});
