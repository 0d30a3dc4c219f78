/**
 * `${VAR}` and `${VAR:-default}` in config string values, resolved from the environment.
 * Applied to the parsed YAML tree (never to the raw text), so a secret can not inject YAML.
 */

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationProblem {
  path: string;
  message: string;
  /** The variable that is not set. */
  variable: string;
}

/** Every unset variable in one error: a summary line when there are several, then each place. */
export function describeInterpolationProblems(problems: readonly InterpolationProblem[]): string[] {
  const lines = problems.map((p) => `${p.path}: ${p.message}`);
  const names = [...new Set(problems.map((p) => p.variable))];
  if (names.length < 2) return lines;
  return [`${names.length} environment variables are not set: ${names.join(', ')} (set them all before starting)`, ...lines];
}

export function interpolateEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: InterpolationProblem[],
  path = '',
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
      const resolved = env[name];
      if (resolved !== undefined && resolved !== '') return resolved;
      if (fallback !== undefined) return fallback;
      problems.push({
        path,
        variable: name,
        message: `environment variable ${name} is not set (write \${${name}:-} to allow it to be empty)`,
      });
      return '';
    });
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => interpolateEnv(item, env, problems, `${path}[${index}]`));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = interpolateEnv(item, env, problems, path ? `${path}.${key}` : key);
    }
    return out;
  }
  return value;
}
