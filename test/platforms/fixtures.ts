import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';

/** A request recorded from a platform's docs: test/platforms/fixtures/NAME.json, a body or `{headers, body}`. */
export function platformFixture(name: string): { headers: IncomingHttpHeaders; body: Record<string, unknown> } {
  const file = JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
  return 'body' in file && 'headers' in file
    ? (file as { headers: IncomingHttpHeaders; body: Record<string, unknown> })
    : { headers: {}, body: file };
}

/** A recorded request's body. */
export function fixture(name: string): Record<string, unknown> {
  return platformFixture(name).body;
}
