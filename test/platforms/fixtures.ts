import { readFileSync } from 'node:fs';

/** A request body recorded from a platform's docs (test/platforms/fixtures/NAME.json). */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}
