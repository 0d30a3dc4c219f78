import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallRegistry } from '../../src/calls/call-registry.ts';
import { cancellationKind } from '../../src/calls/cancellation.ts';

describe('CallRegistry', () => {
  it('cancels the live turn of a call when its next turn begins, not other calls', () => {
    const calls = new CallRegistry();
    const first = new AbortController();
    const other = new AbortController();
    calls.beginTurn('call-a', first, 60_000);
    calls.beginTurn('call-b', other, 60_000);
    const second = new AbortController();
    calls.beginTurn('call-a', second, 60_000);
    assert.equal(first.signal.aborted, true);
    assert.equal(cancellationKind(first.signal.reason), 'superseded');
    assert.equal(other.signal.aborted, false);
    assert.equal(second.signal.aborted, false);
    calls.close(new Error('stop'));
  });

  it('orders turns by sentenceId: a late request for an older question never cancels a newer one', () => {
    const calls = new CallRegistry();
    const newer = new AbortController();
    calls.beginTurn('c', newer, 60_000, 5);
    const stale = new AbortController();
    calls.beginTurn('c', stale, 60_000, 4);
    assert.equal(newer.signal.aborted, false, 'the newer turn keeps streaming');
    assert.equal(cancellationKind(stale.signal.reason), 'superseded', 'the stale one is cancelled at once');
    const retry = new AbortController();
    calls.beginTurn('c', retry, 60_000, 5);
    assert.equal(cancellationKind(newer.signal.reason), 'superseded', 'the same question asked again replaces the answer in progress');
    calls.close(new Error('stop'));
  });

  it('an ended turn is not cancelled later; a request with no call id is not tracked', () => {
    const calls = new CallRegistry();
    const first = new AbortController();
    calls.beginTurn('c', first, 60_000)!.end();
    calls.beginTurn('c', new AbortController(), 60_000);
    assert.equal(first.signal.aborted, false);
    assert.equal(calls.beginTurn(undefined, new AbortController(), 1), undefined);
    assert.equal(calls.size, 1);
    calls.close(new Error('stop'));
  });

  it('keeps a bounded transcript and forgets idle calls, never one mid-turn', () => {
    const calls = new CallRegistry();
    const idle = calls.beginTurn('idle', new AbortController(), 1000)!;
    idle.remember(Array.from({ length: 1000 }, (_, i) => ({ role: 'user' as const, content: String(i) })), '');
    assert.equal(calls.get('idle')!.transcript.length, 400);
    assert.equal(calls.get('idle')!.transcript[0]!.content, '600');
    idle.end();
    calls.beginTurn('busy', new AbortController(), 1000);
    calls.sweep(Date.now() + 5000);
    assert.equal(calls.get('idle'), undefined);
    assert.ok(calls.get('busy'));
    calls.close(new Error('stop'));
  });
});
