import type { PartStream, StreamPart } from '../providers/stream-part.ts';

const FILLER_DUE = Symbol('filler due');

/**
 * Says a short phrase once if the answer has not started within `afterMs`, then continues with
 * the answer. Only the wait for the first part is timed; nothing else is delayed.
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
  if (result === FILLER_DUE) {
    onFiller?.();
    yield { type: 'text', text: `${phrase} ` };
    result = await first;
  }
  try {
    while (!result.done) {
      yield result.value;
      result = await iterator.next();
    }
  } finally {
    await iterator.return?.();
  }
}
