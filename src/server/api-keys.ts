import { readOrCreateSecret } from '../store/generated-secret.ts';

export interface ResolvedApiKeys {
  keys: string[];
  /** Set when no key was configured and the gateway uses its own, kept in the data folder. */
  generated?: { key: string; file: string; createdNow: boolean };
}

/**
 * The keys clients must present. With none configured, the gateway is never open: it generates a
 * key on first start, keeps it (mode 0600) in the data folder so it survives restarts, and uses it.
 * The admin API has keys of its own (file `admin-key`, prefix `vlga-`).
 */
export function resolveApiKeys(
  configured: readonly string[],
  dataDir: string,
  kind: { file: string; prefix: string } = { file: 'api-key', prefix: 'vlg-' },
): ResolvedApiKeys {
  const keys = configured.map((k) => k.trim()).filter((k) => k !== '');
  if (keys.length > 0) return { keys };
  const { value, file, createdNow } = readOrCreateSecret(dataDir, kind.file, kind.prefix);
  return { keys: [value], generated: { key: value, file, createdNow } };
}
