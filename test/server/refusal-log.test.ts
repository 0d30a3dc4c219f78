import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { RefusalLog, type RefusalReason } from '../../src/server/refusal-log.ts';
import { unknownRouteHint } from '../../src/server/route-hint.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

describe('RefusalLog', () => {
  it('logs one line per reason per window, then the count of those not logged', () => {
    let text = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        text += chunk.toString();
        callback();
      },
    });
    let now = 0;
    const counted: RefusalReason[] = [];
    const log = new RefusalLog({ logger: createLogger({ level: 'info', destination }), count: (r) => counted.push(r), now: () => now });
    for (let i = 0; i < 5; i++) log.refused('wrong_api_key', 'wrong key');
    log.refused('unknown_model', 'unknown model');
    now = 61_000;
    log.refused('wrong_api_key', 'wrong key');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l.reason, l.suppressed]),
      [
        ['wrong_api_key', undefined],
        ['unknown_model', undefined],
        ['wrong_api_key', 4],
      ],
    );
    assert.equal(counted.length, 7);
  });
});

describe('unknownRouteHint', () => {
  it('says what the console address should be', () => {
    assert.match(unknownRouteHint('/v1/chat/completions/chat/completions')!, /ending in \/v1/);
    assert.match(unknownRouteHint('/v1/v1/chat/completions')!, /single \/v1/);
    assert.match(unknownRouteHint('/llm/v1/chat/completions')!, /server.pathPrefix: \/llm/);
    assert.equal(unknownRouteHint('/favicon.ico'), undefined);
  });
});
