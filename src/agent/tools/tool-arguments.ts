import { z } from 'zod';
import type { HttpToolConfig } from '../../config/schema.ts';
import { formatIssuePath } from '../../validation/issue-path.ts';
import type { ToolResult } from './http-tool.ts';

/** Issues quoted back to the model at most: enough to correct a call, short enough to read. */
const MAX_ISSUES = 5;

const compiled = new WeakMap<HttpToolConfig, z.ZodType>();

/**
 * The tool's `parameters` (JSON Schema) as a validator, built once per tool. Throws when the
 * schema cannot be used (an unresolvable $ref, an unsupported keyword): the agent registry
 * reports that at startup.
 */
export function argumentValidator(tool: HttpToolConfig): z.ZodType {
  let validator = compiled.get(tool);
  if (validator === undefined) {
    validator = z.fromJSONSchema(tool.parameters as Parameters<typeof z.fromJSONSchema>[0]);
    compiled.set(tool, validator);
  }
  return validator;
}

/**
 * Checks the model's arguments against the tool's parameters before the endpoint is called. A
 * mismatch is a tool error the model reads and can correct in its next round; undefined means
 * "call the endpoint" (arguments that are not JSON are left to the tool runner, which says so).
 */
export function checkToolArguments(tool: HttpToolConfig, argumentsJson: string): ToolResult | undefined {
  let value: unknown;
  try {
    value = argumentsJson.trim() === '' ? {} : (JSON.parse(argumentsJson) as unknown);
  } catch {
    return undefined;
  }
  let validator: z.ZodType;
  try {
    validator = argumentValidator(tool);
  } catch {
    return undefined;
  }
  const result = validator.safeParse(value);
  if (result.success) return undefined;
  const issues = result.error.issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = formatIssuePath(issue.path);
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  return {
    ok: false,
    error: 'invalid_arguments',
    content: `Error: the arguments do not match the parameters of ${tool.name}: ${issues.join('; ')}. Call ${tool.name} again with corrected arguments.`,
    durationMs: 0,
  };
}
