import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { phaseTagOf } from '../../../tools/bench/bench-upstream.ts';
import { PHASE_MARKER, type UpstreamStamp } from '../../../tools/bench/ipc.ts';
import { phaseTable } from '../../../tools/bench/bench-report.ts';
import { gatewayOverRelay, matchStamps, summarisePhases, type PhaseCell, type PhaseSample } from '../../../tools/bench/phases.ts';

const upstream = (tag: string, receivedNs: bigint, firstContentNs: bigint): UpstreamStamp => ({
  tag,
  receivedNs: String(receivedNs),
  firstContentNs: String(firstContentNs),
});

/** A cell whose every stream took `up` µs to the upstream and `down` µs back. */
const cell = (path: PhaseCell['path'], concurrency: number, values: Array<[number, number]>): PhaseCell => ({
  path,
  concurrency,
  samples: values.map(([toUpstreamUs, toClientUs]): PhaseSample => ({ toUpstreamUs, toClientUs })),
  unmatched: 0,
});

describe('phase tags', () => {
  it('finds the tag a forwarded body carries, without parsing it', () => {
    const body = JSON.stringify({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: `hi ${PHASE_MARKER}4711` },
      ],
    });
    assert.equal(phaseTagOf(body), '4711');
    assert.equal(phaseTagOf(JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] })), undefined);
    assert.equal(phaseTagOf(`{"content":"${PHASE_MARKER}"}`), undefined, 'a marker without digits is no tag');
  });
});

describe('matchStamps', () => {
  it('joins the two sides by tag and turns nanoseconds into microseconds', () => {
    const big = 9_007_199_254_740_993n; // above 2^53: the subtraction must happen on bigints
    const { samples, unmatched } = matchStamps(
      [
        { tag: '2', sentNs: big + 1_000n, firstContentNs: big + 30_000_000n },
        { tag: '1', sentNs: big, firstContentNs: big + 25_000_000n },
        { tag: '3', sentNs: big, firstContentNs: big + 1n },
      ],
      [upstream('1', big + 250_500n, big + 24_600_000n), upstream('2', big + 401_000n, big + 29_000_000n), upstream('9', 0n, 0n)],
    );
    assert.deepEqual(samples, [
      { toUpstreamUs: 400, toClientUs: 1000 },
      { toUpstreamUs: 250.5, toClientUs: 400 },
    ]);
    assert.equal(unmatched, 1, 'tag 3 has no upstream stamp; the upstream-only tag 9 is ignored');
  });
});

describe('summarisePhases', () => {
  it('subtracts direct at the same concurrency and compares the gateway with the relay', () => {
    const reports = summarisePhases([
      cell('direct', 1, [
        [100, 200],
        [100, 200],
      ]),
      cell('pipe-relay', 1, [
        [300, 250],
        [300, 250],
      ]),
      cell('gateway', 1, [
        [800, 400],
        [800, 400],
      ]),
      cell('direct', 4, [[100, 100]]),
      cell('pipe-relay', 4, [[100, 100]]),
      cell('gateway', 4, [[500, 300]]),
    ]);
    const at = (path: string, c: number) => reports.find((r) => r.path === path && r.concurrency === c)!;
    assert.deepEqual(at('direct', 1).toUpstreamUs, { p50: 100, p90: 100 });
    assert.equal(at('direct', 1).addedToUpstreamUs, null, 'direct is the floor, nothing is subtracted from it');
    assert.deepEqual(at('pipe-relay', 1).addedToUpstreamUs, { p50: 200, p90: 200 });
    assert.deepEqual(at('gateway', 1).addedToClientUs, { p50: 200, p90: 200 });
    assert.deepEqual(at('gateway', 4).addedToUpstreamUs, { p50: 400, p90: 400 });

    const ratios = gatewayOverRelay(reports);
    assert.deepEqual(ratios, [
      { concurrency: 1, toUpstream: { p50: 3.5, p90: 3.5 }, toClient: { p50: 4, p90: 4 } },
      // The relay added nothing at c=4: no ratio rather than a division by zero.
      { concurrency: 4, toUpstream: { p50: null, p90: null }, toClient: { p50: null, p90: null } },
    ]);
    const table = phaseTable(reports);
    assert.match(table, /added p50 \(µs\)/);
    assert.match(table, /\| 1 \| gateway ÷ pipe relay \| ×3\.50 \| ×3\.50 \| ×4\.00 \| ×4\.00 \|/);
    assert.match(table, /\| 1 \| direct \(raw: the floor subtracted\) \| \(100\.0\) \|/);
  });

  it('adds nothing without a direct path to subtract', () => {
    const [gateway] = summarisePhases([cell('gateway', 1, [[900, 400]])]);
    assert.equal(gateway!.addedToUpstreamUs, null);
    assert.deepEqual(gatewayOverRelay(summarisePhases([cell('gateway', 1, [[900, 400]])])), []);
  });
});
