/**
 * Turns a model's inline reasoning into reasoning parts, so it is never spoken: `<think>…</think>`
 * blocks (Qwen3, DeepSeek-R1 and similar), also spelled `<thinking>` or `<reasoning>`, in any
 * letter case, with spaces inside the brackets. A closing tag that no opening tag preceded is
 * never spoken either (`onStrayClose` is told: the model likely needs the `unopened` mode).
 *
 * Mode `unopened` is for deployments whose chat template already opened the block in the prompt
 * (DeepSeek-R1 behind some vLLM versions, Qwen3 "Thinking" models): the answer starts inside it,
 * so text is held until the first closing tag and everything before it is reasoning. The hold
 * ends without a closing tag when the turn shows the model is not thinking in its text: the
 * server sent its reasoning apart (a reasoning part came first), the text opens a block itself,
 * or a tool call or the end arrives (the held text is then the answer; after a `length` finish it
 * was reasoning cut short).
 *
 * Streaming with bounded look-ahead: only a trailing suffix that could still become a tag is held
 * back, and flushed when a part that is not text arrives, and at the end. The whitespace run right
 * after a closing tag is dropped so the answer does not start with blank lines. Other parts pass
 * through unchanged and in order.
 */

import type { ReasoningMode } from '../../config/schema.ts';
import type { PartStream, PartTransform, StreamPart } from '../../core/stream-part.ts';

export interface StripThinkOptions {
  /** Read when the first part arrives, once the provider chain committed to a target. Default `auto`. */
  mode?: () => ReasoningMode;
  onStrayClose?: () => void;
}

/** An opening or closing tag; the name and the spaces tolerated are bounded, so is the look-ahead. */
const TAG = /<[ \t]{0,2}(\/?)[ \t]{0,2}(?:think|thinking|reasoning)[ \t]{0,2}>/iy;
const TAG_START = /^<[ \t]{0,2}\/?[ \t]{0,2}([A-Za-z]*)([ \t]{0,2})$/;
const NAMES = ['think', 'thinking', 'reasoning'];
const LONGEST_TAG = 22;
const LEADING_WHITESPACE = /^\s+/;

/** Whether `suffix` (from a `<` to the end of the text so far) may still grow into a tag. */
function mayBecomeTag(suffix: string): boolean {
  if (suffix.length >= LONGEST_TAG) return false;
  const parts = TAG_START.exec(suffix);
  if (parts === null) return false;
  const name = parts[1]!.toLowerCase();
  return parts[2] === '' ? NAMES.some((full) => full.startsWith(name)) : NAMES.includes(name);
}

type Region = 'answer' | 'reasoning' | 'undecided';

/** The reasoning strip of a round. */
export function stripReasoning(options: StripThinkOptions = {}): PartTransform {
  return (parts) => stripThinkBlocks(parts, options);
}

export async function* stripThinkBlocks(parts: PartStream, options: StripThinkOptions = {}): AsyncGenerator<StreamPart, void, undefined> {
  let region: Region | undefined;
  /** A suffix held back because it may be the start of a tag. */
  let held = '';
  /** Text that is reasoning if a closing tag follows, else the answer; and whether it has more than whitespace. */
  let undecided = '';
  let undecidedSaysSomething = false;
  const holdUndecided = (text: string): void => {
    undecided += text;
    undecidedSaysSomething ||= text.trim() !== '';
  };
  /** Drop whitespace before the first answer text after a closing tag. */
  let trimLeading = false;
  let out: StreamPart[] = [];

  const say = (text: string, as: 'text' | 'reasoning'): void => {
    if (text === '') return;
    if (as === 'text' && trimLeading) {
      text = text.replace(LEADING_WHITESPACE, '');
      if (text === '') return;
      trimLeading = false;
    }
    const last = out.at(-1);
    if (last !== undefined && last.type === as) last.text += text;
    else out.push({ type: as, text });
  };
  const sayIn = (text: string): void => {
    if (region === 'undecided') holdUndecided(text);
    else say(text, region === 'reasoning' ? 'reasoning' : 'text');
  };
  const closeBlock = (): void => {
    region = 'answer';
    trimLeading = true;
  };
  const onTag = (closing: boolean, tag: string): void => {
    if (region === 'answer') {
      if (closing) {
        trimLeading = true;
        options.onStrayClose?.();
      } else region = 'reasoning';
    } else if (region === 'reasoning') {
      if (closing) closeBlock();
      else say(tag, 'reasoning');
    } else if (closing) {
      say(undecided, 'reasoning');
      undecided = '';
      closeBlock();
    } else if (!undecidedSaysSomething) {
      undecided = '';
      region = 'reasoning';
    } else holdUndecided(tag);
  };
  /** Splits `text` at its tags; holds back a suffix that may still become one unless `final`. */
  const scan = (text: string, final: boolean): void => {
    let from = 0;
    for (let at = text.indexOf('<'); at >= 0; at = text.indexOf('<', at + 1)) {
      TAG.lastIndex = at;
      const tag = TAG.exec(text);
      if (tag !== null) {
        sayIn(text.slice(from, at));
        onTag(tag[1] === '/', tag[0]);
        from = at + tag[0].length;
        at = from - 1;
      } else if (!final && mayBecomeTag(text.slice(at))) {
        sayIn(text.slice(from, at));
        held = text.slice(at);
        return;
      }
    }
    sayIn(text.slice(from));
  };
  /** The model is not thinking in its text: held undecided text is the answer (or cut-off reasoning). */
  const decide = (as: 'text' | 'reasoning'): void => {
    if (region !== 'undecided') return;
    region = 'answer';
    say(undecided, as);
    undecided = '';
  };
  const take = (): StreamPart[] => {
    const taken = out;
    out = [];
    return taken;
  };

  for await (const part of parts) {
    region ??= options.mode?.() === 'unopened' ? 'undecided' : 'answer';
    if (part.type === 'text') {
      if (part.text === '') continue;
      // Fast path: plain answer text with nothing held and no tag in sight.
      if (region === 'answer' && held === '' && !trimLeading && !part.text.includes('<')) {
        yield part;
        continue;
      }
      const text = held + part.text;
      held = '';
      scan(text, false);
      yield* take();
      continue;
    }
    if (held !== '') {
      const text = held;
      held = '';
      scan(text, true);
    }
    if (part.type === 'reasoning') {
      if (!undecidedSaysSomething) decide('text');
    } else if (part.type !== 'usage') {
      decide(part.type === 'finish' && part.reason === 'length' ? 'reasoning' : 'text');
    }
    yield* take();
    yield part;
  }
  if (held !== '') scan(held, true);
  decide('text');
  yield* take();
}
