import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GeneratedSecret {
  value: string;
  file: string;
  /** False when it was read from an earlier start. */
  createdNow: boolean;
}

/**
 * A secret the gateway makes for itself when none is configured: read from `<dataDir>/<file>`, or
 * generated (`prefix` and 32 random base64url characters) and kept there with mode 0600, so it
 * stays the same across restarts.
 */
export function readOrCreateSecret(dataDir: string, file: string, prefix: string): GeneratedSecret {
  const path = join(dataDir, file);
  try {
    const existing = readFileSync(path, 'utf8').trim();
    if (existing !== '') return { value: existing, file: path, createdNow: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = `${prefix}${randomBytes(24).toString('base64url')}`;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return { value, file: path, createdNow: true };
}
