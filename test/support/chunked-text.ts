import type { StreamPart } from '../../src/core/stream-part.ts';

/** `whole` cut at the given points (taken modulo its length, sorted, deduplicated): for chunking properties. */
export function chunksAt(whole: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((cut) => cut % (whole.length + 1)))].sort((a, b) => a - b);
  return [0, ...points].map((at, i, all) => whole.slice(at, all[i + 1] ?? whole.length));
}

/** A stream of two parts whose second waits for `release()`: to see what a stage yields before it. */
export function gatedSource(first: StreamPart, second: StreamPart): { parts: AsyncIterable<StreamPart>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  async function* parts(): AsyncGenerator<StreamPart> {
    yield first;
    await gate;
    yield second;
  }
  return { parts: parts(), release };
}
