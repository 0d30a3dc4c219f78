import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { describeIssues } from './describe-issues.ts';
import { describeInterpolationProblems, interpolateEnv, type InterpolationProblem } from './env-interpolation.ts';
import { findConfigFile, readYaml, type LoadConfigOptions } from './load-config.ts';
import { recordsSchema, serverConfigSchema } from './schema.ts';

/**
 * What reading the records needs (`calls export`): where they are. Only `server.dataDir` and
 * `records` are read, interpolated and checked, so a configuration whose upstream keys come from
 * variables that are not set here (`${DASHSCOPE_API_KEY}`) still serves, and no secret is needed.
 */
const recordsSettingsSchema = z.object({
  server: z.object({ dataDir: serverConfigSchema.shape.dataDir }).default({ dataDir: './data' }),
  records: recordsSchema,
});

export type RecordsSettings = z.infer<typeof recordsSettingsSchema>;

/** The records settings of the configuration the server would load (defaults without a file). */
export function loadRecordsSettings(options: LoadConfigOptions = {}): RecordsSettings {
  const path = findConfigFile(options);
  const tree = path === undefined ? {} : objectOrEmpty(readYaml(path));
  const server = objectOrEmpty(tree['server']);
  const picked: Record<string, unknown> = { server: 'dataDir' in server ? { dataDir: server['dataDir'] } : {} };
  if ('records' in tree) picked['records'] = tree['records'];
  const label = path ?? 'built-in defaults';
  const problems: InterpolationProblem[] = [];
  const interpolated = interpolateEnv(picked, options.env ?? process.env, problems);
  if (problems.length > 0) throw new ConfigError(label, describeInterpolationProblems(problems));
  const parsed = recordsSettingsSchema.safeParse(interpolated, { reportInput: true });
  if (!parsed.success) throw new ConfigError(label, describeIssues(parsed.error, recordsSettingsSchema));
  return parsed.data;
}

function objectOrEmpty(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
