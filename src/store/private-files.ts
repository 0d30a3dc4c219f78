/**
 * The data folder holds the API keys and the call records (what callers said): only the
 * gateway's own user may read them, whatever the umask, including files left by older versions.
 */

import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/** Creates the folder if needed and sets its mode to 0700 (mkdir's mode is cut by the umask). */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  chmodSync(dir, PRIVATE_DIR);
}

/** Sets existing files to 0600; files that do not exist are skipped. */
export function restrictFiles(files: readonly string[]): void {
  for (const file of files) {
    try {
      chmodSync(file, PRIVATE_FILE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** Creates an empty file with mode 0600 unless it exists (SQLite then opens it as a new database). */
export function createPrivateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE));
}

/** A SQLite database and the files SQLite keeps beside it (they take the database's mode). */
export function sqliteFiles(database: string): string[] {
  return [database, `${database}-wal`, `${database}-shm`, `${database}-journal`];
}
