/**
 * `${VAR}` and `${VAR:-default}` in config string values, resolved from the environment.
 * Applied to the parsed YAML tree (never to the raw text), so a secret can not inject YAML.
 */

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationProblem {
  path: string;
  message: string;
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
