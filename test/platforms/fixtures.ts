import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import type { TestGateway } from '../support/gateway-harness.ts';

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

/** Sends a recorded request to the gateway, with changes to its body or headers. */
export function postFixture(
  gateway: TestGateway,
  path: string,
  name: string,
  change: { body?: Record<string, unknown>; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  const recorded = platformFixture(name);
  const headers = {
    ...Object.fromEntries(Object.entries(recorded.headers).map(([key, value]) => [key, String(value)])),
    ...change.headers,
  };
  return gateway.post(path, { ...recorded.body, ...change.body }, { headers, ...(change.signal ? { signal: change.signal } : {}) });
}
