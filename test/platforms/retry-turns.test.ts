import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { cancellation } from '../../src/calls/cancellation.ts';
import type { PartStream, StreamPart } from '../../src/core/stream-part.ts';
import { RetryTurns } from '../../src/platforms/retry-turns.ts';

/** A turn that says `words` one by one, `gapMs` apart, until `signal` aborts. */
async function* slowTurn(words: string[], gapMs: number, signal: AbortSignal): PartStream {
  for (const word of words) {
    await sleep(gapMs, undefined, { signal });
    yield { type: 'text', text: word };
  }
  yield { type: 'finish', reason: 'stop' };
}

async function collect(parts: PartStream): Promise<string> {
  let text = '';
  for await (const part of parts) if (part.type === 'text') text += part.text;
  return text;
}

// biome-ignore lint/correctness/useYield: a stream that fails before it yields anything
const never: PartStream = (async function* (): PartStream {
  throw new Error('a retry must never run the turn');
})();

describe('RetryTurns', () => {
  it('gives a retry the whole answer, live, from one run', async () => {
    const turns = new RetryTurns();
    const first = new AbortController();
    const a = turns.open('k', first.signal);
    const aText = collect(a.share(slowTurn(['One ', 'two ', 'three.'], 10, a.signal)));
    await sleep(15);
    const b = turns.open('k', new AbortController().signal);
    assert.equal(b.joined, true);
    assert.equal(await collect(b.share(never)), 'One two three.');
    assert.equal(await aText, 'One two three.');
    const c = turns.open('k', new AbortController().signal);
    assert.equal(await collect(c.share(never)), 'One two three.', 'a finished turn is replayed');
  });

  it('keeps the turn running for a retry after the first request hung up, and stops it when none comes', async () => {
    const turns = new RetryTurns({ graceMs: 30 });
    const first = new AbortController();
    const a = turns.open('k', first.signal);
    void collect(a.share(slowTurn(['a', 'b', 'c', 'd', 'e', 'f'], 20, a.signal))).catch(() => {});
    first.abort(cancellation('client_closed'));
    await sleep(10);
    assert.equal(a.signal.aborted, false, 'the platform may be retrying');
    const b = turns.open('k', new AbortController().signal);
    assert.equal(await collect(b.share(never)), 'abcdef');

    const lonely = new AbortController();
    const c = turns.open('other', lonely.signal);
    void collect(c.share(slowTurn(['x', 'y', 'z'], 50, c.signal))).catch(() => {});
    lonely.abort(cancellation('client_closed'));
    await sleep(60);
    assert.equal(c.signal.aborted, true, 'no retry came within the grace period');
    assert.equal(turns.open('other', new AbortController().signal).joined, false, 'a stopped turn is run again');
  });

  it('stops the turn at once when a newer turn of the call supersedes it', async () => {
    const turns = new RetryTurns({ graceMs: 10_000 });
    const request = new AbortController();
    const a = turns.open('k', request.signal);
    void collect(a.share(slowTurn(['a', 'b'], 50, a.signal))).catch(() => {});
    request.abort(cancellation('superseded'));
    assert.equal(a.signal.aborted, true);
  });

  it('is bounded: the oldest turn is forgotten, a long answer is not kept for replay', async () => {
    const turns = new RetryTurns({ maxTurns: 2, maxChars: 5 });
    for (const key of ['a', 'b', 'c']) turns.open(key, new AbortController().signal);
    assert.equal(turns.size, 2);
    assert.equal(turns.open('a', new AbortController().signal).joined, false);

    const long = turns.open('long', new AbortController().signal);
    const parts: StreamPart[] = [
      { type: 'text', text: 'far too long' },
      { type: 'finish', reason: 'stop' },
    ];
    await collect(
      long.share(
        (async function* () {
          yield* parts;
        })(),
      ),
    );
    assert.equal(turns.open('long', new AbortController().signal).joined, false);
  });
});
