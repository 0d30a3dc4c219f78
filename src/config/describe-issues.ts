import type { z } from 'zod';
import { closestName } from '../text/did-you-mean.ts';
import { formatIssuePath } from '../validation/issue-path.ts';
import { keyLocations, keysAt, type KeyPattern } from './schema-keys.ts';

/** Model parameters people put next to `model` instead of under `params`. */
const MODEL_PARAMS = new Set([
  'temperature',
  'top_p',
  'top_k',
  'max_tokens',
  'max_completion_tokens',
  'presence_penalty',
  'frequency_penalty',
  'repetition_penalty',
  'seed',
  'stop',
  'enable_thinking',
  'enable_search',
  'response_format',
  'parallel_tool_calls',
]);

/**
 * Schema issues as lines that say what to do: where a misplaced key belongs ("did you mean
 * agents.support.params.temperature?"), the likely spelling of an unknown key, and quoting
 * advice for a YAML number where text is expected (a phone number loses its leading 0).
 */
export function describeIssues(error: z.ZodError, schema: z.ZodType): string[] {
  return error.issues.flatMap((issue) => {
    const path = formatIssuePath(issue.path) || '(top level)';
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${path}: unknown key "${key}"${misplacedKeyHint(schema, issue.path, key)}`);
    }
    if (issue.code === 'invalid_type' && issue.expected === 'string' && typeof issue.input === 'number') {
      return [
        `${path}: expected text, got the number ${issue.input}: quote it in the YAML ("${issue.input}"); ` +
          'a number with a leading 0, like a phone number "0571…", must be quoted or its 0 is lost',
      ];
    }
    return [`${path}: ${issue.message}`];
  });
}

function misplacedKeyHint(schema: z.ZodType, at: readonly PropertyKey[], key: string): string {
  const spelling = closestName(key, keysAt(schema, at));
  if (spelling !== undefined) return ` (did you mean "${spelling}"?)`;
  if (MODEL_PARAMS.has(key)) {
    const where = at[0] === 'providers' ? ['providers', '*', 'defaultParams', key] : ['agents', '*', 'params', key];
    return ` (did you mean ${render(where, at)}?)`;
  }
  const locations = keyLocations(schema, key);
  if (locations.length === 0) return '';
  const best = locations.reduce((a, b) => (sharedPrefix(b, at) > sharedPrefix(a, at) ? b : a));
  return ` (it belongs under ${render(best, at)})`;
}

/** How many leading segments of a pattern the concrete path matches. */
function sharedPrefix(pattern: KeyPattern, path: readonly PropertyKey[]): number {
  let n = 0;
  while (n < pattern.length && n < path.length && matches(pattern[n]!, path[n]!)) n++;
  return n;
}

function matches(segment: string, actual: PropertyKey): boolean {
  if (segment === '[]') return typeof actual === 'number';
  return segment === '*' ? typeof actual === 'string' : segment === actual;
}

/** The pattern as a path, with the concrete names of the issue's path where it matches. */
function render(pattern: KeyPattern, path: readonly PropertyKey[]): string {
  const shared = sharedPrefix(pattern, path);
  const segments = pattern.map((segment, i): PropertyKey => {
    if (i < shared) return path[i]!;
    if (segment === '*') return '<name>';
    return segment === '[]' ? 0 : segment;
  });
  return formatIssuePath(segments);
}
