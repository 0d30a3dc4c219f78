import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { recordsSchema } from '../../src/config/schema.ts';
import { DEFAULT_RECORD_LIMITS, KEY_CHARS, RecordCapper, truncateText, truncationMarker } from '../../src/store/record-limits.ts';
import type { ToolRunRecord } from '../../src/store/turn-record.ts';
import { turn } from './record-store-suite.ts';

const run = (result: string): ToolRunRecord => ({ name: 'lookup', arguments: '{}', ok: true, error: null, status: 200, result, ms: 1 });

describe('record limits', () => {
  it('truncateText keeps the start and a visible marker, within the cap, never splitting a surrogate pair', () => {
    assert.equal(truncateText('short', 10), 'short');
    const cut = truncateText('x'.repeat(12_345), 1000);
    assert.equal(cut.length, 1000);
    assert.ok(cut.endsWith(truncationMarker(12_345 - cut.indexOf('…'))));
    assert.match(cut, /^x+…\[truncated 11\d{3} chars\]$/);
    const emoji = truncateText('😀'.repeat(100), 51);
    assert.ok(emoji.length <= 51);
    assert.equal(emoji.toWellFormed(), emoji);
  });

  it('caps identifiers at KEY_CHARS and text at maxTextChars, counting each cut by field', () => {
    const capper = new RecordCapper({ maxTextChars: 200, maxToolRunsChars: 100_000 });
    const record = turn({
      instanceId: 'i'.repeat(5000),
      answerText: 'a'.repeat(18_000_000),
      callerText: 'short',
      userData: 'u'.repeat(201),
      toolRuns: [{ ...run('r'.repeat(300)), arguments: 'g'.repeat(300) }],
    });
    const capped = capper.capTurn(record);
    assert.equal(capped.instanceId?.length, KEY_CHARS);
    assert.match(capped.instanceId ?? '', /…\[truncated \d+ chars\]$/);
    assert.equal(capped.answerText.length, 200);
    assert.match(capped.answerText, /…\[truncated 17999\d{3} chars\]$/);
    assert.equal(capped.callerText, 'short');
    assert.equal(capped.userData?.length, 200);
    assert.equal(capped.toolRuns[0]?.result.length, 200);
    assert.equal(capped.toolRuns[0]?.arguments.length, 200);
    assert.deepEqual(Object.fromEntries(capper.truncated), { identifier: 1, answerText: 1, userData: 1, toolRuns: 2 });
    // Nothing to cut: nothing counted, the values unchanged.
    const fine = turn();
    assert.deepEqual(new RecordCapper().capTurn(fine), fine);
  });

  it('replaces the tool runs past maxToolRunsChars with one marker run', () => {
    const capper = new RecordCapper({ maxTextChars: 1000, maxToolRunsChars: 2500 });
    const capped = capper.capTurn(turn({ toolRuns: Array.from({ length: 10 }, () => run('r'.repeat(900))) }));
    assert.equal(capped.toolRuns.length, 3);
    assert.deepEqual(
      capped.toolRuns.slice(0, 2).map((r) => r.result.length),
      [900, 900],
    );
    assert.match(capped.toolRuns[2]?.error ?? '', /^…\[truncated 8 tool runs, \d+ chars\]$/);
    assert.ok(JSON.stringify(capped.toolRuns).length < 2500 + 200);
    assert.equal(capper.truncated.get('toolRuns'), 1);
  });

  it("caps a platform event's identifiers", () => {
    const capper = new RecordCapper();
    const event = capper.capEvent({
      instanceId: 'c',
      event: 'agent_stop',
      eventKey: 'k'.repeat(3000),
      receivedAt: '2024-01-01T00:00:00.000Z',
      payload: {},
    });
    assert.equal(event.eventKey.length, KEY_CHARS);
    assert.equal(capper.truncated.get('event'), 1);
  });

  it("the defaults are the configuration's", () => {
    const records = recordsSchema.parse(undefined);
    assert.deepEqual({ maxTextChars: records.maxTextChars, maxToolRunsChars: records.maxToolRunsChars }, DEFAULT_RECORD_LIMITS);
  });
});
