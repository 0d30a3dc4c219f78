import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  hasInterruptionMarker,
  markInterruptions,
  removeInterruptionMarkers,
  textBeforeInterruption,
} from '../../../src/agent/history/interruptions.ts';
import { PHRASES } from '../../../src/agent/language/phrases.ts';
import type { ChatMessage } from '../../../src/core/chat-types.ts';
import { growthRatio } from '../../../tools/testing/growth.ts';
import { isWhitespace } from '../../../src/text/is-whitespace.ts';

/** Time at 8x over time at 1x: about 8 when linear, about 64 when quadratic. */
const MAX_GROWTH = 24;
const UNIT = 4_000;

/** The patterns the scanner replaced, kept here as the reference for its behaviour. */
const MARKER_SOURCE = String.raw`<\s*\/?\s*ims_agent_interrupted\s*\/?\s*>`;
const MARKER_RUN = new RegExp(String.raw`(?:\s*${MARKER_SOURCE})+\s*`, 'gi');
const FIRST_MARKER = new RegExp(String.raw`\s*${MARKER_SOURCE}`, 'i');

function referenceRemove(text: string): string {
  if (!FIRST_MARKER.test(text)) return text;
  return text.replace(MARKER_RUN, (run: string, offset: number) => {
    if (offset === 0 || offset + run.length === text.length) return '';
    return /\s/.test(run) ? ' ' : '';
  });
}

function referenceBefore(text: string): string | undefined {
  const match = FIRST_MARKER.exec(text);
  return match === null ? undefined : text.slice(0, match.index).trimEnd();
}

/** Text made of marker spellings, near-misses, whitespace and words, to compare with the reference. */
const markerishText = fc
  .array(
    fc.constantFrom(
      '<ims_agent_interrupted>',
      '</ims_agent_interrupted>',
      '<ims_agent_interrupted/>',
      '< / IMS_Agent_Interrupted / >',
      '<\u3000ims_agent_interrupted\t>',
      '<ims_agent_interrupted',
      'ims_agent_interrupted>',
      '<<',
      '<',
      '/',
      '>',
      ' ',
      '\n',
      '\u00a0',
      '\u2028',
      'nine',
      '九点',
      '<imsagent_hangup/>',
    ),
    { maxLength: 12 },
  )
  .map((pieces) => pieces.join(''));

describe('interruption markers: the linear scanner', () => {
  it('sees whitespace exactly as \\s does, for every UTF-16 code unit', () => {
    for (let code = 0; code <= 0xffff; code++) {
      assert.equal(isWhitespace(code), /\s/.test(String.fromCharCode(code)), `U+${code.toString(16)}`);
    }
  });

  it('removes markers, finds the cut point and detects them exactly as the former patterns', () => {
    fc.assert(
      fc.property(markerishText, (text) => {
        assert.equal(removeInterruptionMarkers(text), referenceRemove(text));
        assert.equal(textBeforeInterruption(text), referenceBefore(text));
        assert.equal(hasInterruptionMarker(text), FIRST_MARKER.test(text));
      }),
      { numRuns: 2_000 },
    );
  });

  const adversarial: Array<[string, (n: number) => string]> = [
    ['whitespace that no marker follows', (n) => `a${' '.repeat(n)}b <ims_agent_interrupted> c`],
    ['whitespace inside a broken marker', (n) => `a<${' '.repeat(n)}/${' '.repeat(n)}x<ims_agent_interrupted>`],
    ['whitespace before the bare name', (n) => `${' '.repeat(n)}ims_agent_interrupted`],
    ['many markers between words', (n) => 'a <ims_agent_interrupted> '.repeat(n / 8)],
  ];
  for (const [kind, text] of adversarial) {
    it(`grows linearly on ${kind}`, async () => {
      const ratio = await growthRatio(
        (scale) => text(UNIT * scale),
        (input) => {
          hasInterruptionMarker(input);
          removeInterruptionMarkers(input);
          textBeforeInterruption(input);
        },
      );
      assert.ok(ratio < MAX_GROWTH, `8x input took ${ratio.toFixed(1)}x the time`);
    });
  }

  it('grows linearly on a history of long whitespace answers', async () => {
    const history = (scale: number): ChatMessage[] =>
      Array.from({ length: 4 }, () => ({ role: 'assistant', content: `ok${' '.repeat(UNIT * scale)}x<ims_agent_interrupted> y` }));
    const ratio = await growthRatio(history, (messages) => {
      markInterruptions(messages, { annotate: true, note: PHRASES.en.interruptionNote });
      markInterruptions(messages, { annotate: false, note: PHRASES.en.interruptionNote });
    });
    assert.ok(ratio < MAX_GROWTH, `8x input took ${ratio.toFixed(1)}x the time`);
  });
});
