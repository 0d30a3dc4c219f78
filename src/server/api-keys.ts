import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
  const file = join(dataDir, kind.file);
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing !== '') return { keys: [existing], generated: { key: existing, file, createdNow: false } };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = `${kind.prefix}${randomBytes(24).toString('base64url')}`;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { keys: [key], generated: { key, file, createdNow: true } };
}
