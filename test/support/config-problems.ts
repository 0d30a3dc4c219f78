import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/config-error.ts';

/** The problem lines of the ConfigError `run` throws (fails the test when it throws nothing else). */
export function configProblems(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}
