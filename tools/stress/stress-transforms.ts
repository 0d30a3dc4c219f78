/**
 * `npm run stress`: times every transform of request or model text on adversarial inputs of 1 MB
 * and 8 MB (tools/stress/stress-cases.ts) and prints time per MB and the 8 MB / 1 MB ratio: about 8 when
 * linear, about 64 when quadratic. A case is first timed at 1/8 MB; one that would clearly take
 * too long at the next size (quadratic extrapolation) is not run at it, and its ratio is taken
 * between the sizes that did run. Options: a substring of a transform name to run only those.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { bestTime } from '../testing/growth.ts';
import { stressCases, type StressCase } from './stress-cases.ts';

// Each size starts on a collected heap, so it does not pay for the garbage of the one before.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const MB = 1 << 20;
/** A size is skipped when quadratic growth from the previous one would pass this. */
const BUDGET_MS = 15_000;
/** Timings per size; the best counts. */
const RUNS = 3;

interface Row {
  transform: string;
  kind: string;
  mb: number;
  ms: number;
  ratio?: string;
}

async function timeAt(testCase: StressCase, mb: number): Promise<number> {
  const work = testCase.prepare(Math.round(mb * MB));
  collectGarbage();
  return bestTime(work, RUNS);
}

async function stress(testCase: StressCase): Promise<Row[]> {
  const row = (mb: number, ms: number, ratio?: string): Row => ({ transform: testCase.transform, kind: testCase.kind, mb, ms, ratio });
  const probe = await timeAt(testCase, 1 / 8);
  if (probe * 64 > BUDGET_MS) return [row(1 / 8, probe, 'skipped 1 MB: too slow')];
  const one = await timeAt(testCase, 1);
  if (one * 64 > BUDGET_MS) return [row(1 / 8, probe), row(1, one, `${(one / probe).toFixed(1)} (1 MB / 1/8 MB; 8 MB skipped)`)];
  const eight = await timeAt(testCase, 8);
  return [row(1, one), row(8, eight, (eight / one).toFixed(1))];
}

function format(row: Row): string {
  const mb = row.mb < 1 ? '1/8' : String(row.mb);
  return [
    row.transform.padEnd(36),
    row.kind.padEnd(30),
    mb.padStart(3),
    row.ms.toFixed(1).padStart(10),
    (row.ms / row.mb).toFixed(1).padStart(10),
    row.ratio ?? '',
  ].join('  ');
}

const only = process.argv[2];
const cases = only === undefined ? stressCases : stressCases.filter((c) => c.transform.includes(only));
console.log(
  ['transform'.padEnd(36), 'input'.padEnd(30), ' MB', 'ms'.padStart(10), 'ms/MB'.padStart(10), '8MB/1MB (linear ≈ 8)'].join('  '),
);
const started = Date.now();
for (const testCase of cases) for (const row of await stress(testCase)) console.log(format(row));
console.log(`\n${cases.length} cases in ${((Date.now() - started) / 1000).toFixed(0)} s`);
