import type { PartStream, PartTransform } from './stream-part.ts';

/** One entry of a pipeline: a transform and the name it is listed, logged and tested under. */
export interface NamedStage {
  readonly name: string;
  readonly transform: PartTransform;
}

export function stage(name: string, transform: PartTransform): NamedStage {
  return { name, transform };
}

/**
 * A pipeline written as it reads, one entry a line: an entry the config leaves out is written as
 * `condition && stage(…)` and dropped here, so the list stays the pipeline's documentation.
 */
export function stageList(...entries: ReadonlyArray<NamedStage | false | undefined>): NamedStage[] {
  return entries.filter((entry): entry is NamedStage => entry !== false && entry !== undefined);
}

/** `source` through each stage in order: the first stage reads the source, the last is read by the caller. */
export function pipe(source: PartStream, stages: readonly NamedStage[]): PartStream {
  let parts = source;
  for (const { transform } of stages) parts = transform(parts);
  return parts;
}
