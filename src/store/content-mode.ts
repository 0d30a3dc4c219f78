import type { TurnRecord } from './turn-record.ts';

/** `records.content`: keep what was said (full), or only timings, outcomes and counts (metadata). */
export type RecordContent = 'full' | 'metadata';

/**
 * The record without what the caller said or heard: texts, userData, tool arguments and results
 * and error messages (which may quote the upstream's echo of the prompt) are left empty.
 */
export function withoutContent(record: TurnRecord): TurnRecord {
  return {
    ...record,
    callerText: '',
    answerText: '',
    userData: null,
    errorMessage: null,
    toolRuns: record.toolRuns.map((run) => ({ ...run, arguments: '', result: '', error: run.error === null ? null : 'error' })),
  };
}
