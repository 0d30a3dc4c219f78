import type { PartStream, PartTransform, StreamPart } from '../core/stream-part.ts';
import { PhraseJoiner } from '../text/phrase-joiner.ts';

const FILLER_DUE = Symbol('filler due');

export interface FillerOptions {
  /** How long the answer may take to start before the phrase is said. */
  afterMs: number;
  phrase: string;
  onFiller?: (() => void) | undefined;
}

/** The filler stage of a turn. */
export function sayFiller(options: FillerOptions): PartTransform {
  return (parts) => withFiller(parts, options.afterMs, options.phrase, options.onFiller);
}

/**
 * Says a short phrase once if the answer has not started within `afterMs`, then continues with
 * the answer. Only the wait for the first part is timed; nothing else is delayed. The answer is
 * joined to the phrase as its script needs (a space in English, none in Chinese).
 */
export async function* withFiller(parts: PartStream, afterMs: number, phrase: string, onFiller?: () => void): PartStream {
  const iterator = parts[Symbol.asyncIterator]();
  const first = iterator.next();
  let timer: NodeJS.Timeout | undefined;
  const due = new Promise<typeof FILLER_DUE>((resolve) => {
    timer = setTimeout(resolve, afterMs, FILLER_DUE);
  });
  let result: IteratorResult<StreamPart> | typeof FILLER_DUE;
  try {
    result = await Promise.race([first, due]);
  } finally {
    clearTimeout(timer);
  }
  let joiner: PhraseJoiner | undefined;
  if (result === FILLER_DUE) {
    onFiller?.();
    joiner = new PhraseJoiner();
    yield { type: 'text', text: joiner.phrase(phrase) };
    result = await first;
  }
  try {
    while (!result.done) {
      const part = result.value;
      yield joiner && part.type === 'text' ? joiner.part(part) : part;
      result = await iterator.next();
    }
  } finally {
    await iterator.return?.();
  }
}
