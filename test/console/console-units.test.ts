import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleSessions, cookieValue } from '../../src/console/console-sessions.ts';
import { redactConfig } from '../../src/console/redact-config.ts';

describe('console sessions', () => {
  it('are valid until their TTL, then gone; a deleted one is gone at once', () => {
    let now = 1_000_000;
    const sessions = new ConsoleSessions(60_000, () => now);
    const token = sessions.create();
    assert.ok(token.length >= 40);
    assert.ok(sessions.valid(token));
    assert.ok(!sessions.valid(`${token}x`));
    assert.ok(!sessions.valid(undefined));
    now += 59_999;
    assert.ok(sessions.valid(token));
    now += 1;
    assert.ok(!sessions.valid(token));
    const other = sessions.create();
    sessions.delete(other);
    assert.ok(!sessions.valid(other));
  });

  it('reads one cookie out of a Cookie header', () => {
    assert.equal(cookieValue('a=1; vlg_console=abc; b=2', 'vlg_console'), 'abc');
    assert.equal(cookieValue('xvlg_console=abc', 'vlg_console'), undefined);
    assert.equal(cookieValue(undefined, 'vlg_console'), undefined);
  });
});

describe('redactConfig', () => {
  it('hides keys, tokens, header values and URL credentials, keeping the shape', () => {
    const redacted = redactConfig({
      server: { apiKeys: ['k1', 'k2'], port: 8083 },
      admin: { apiKeys: [] },
      metrics: { apiKey: 'm' },
      callbacks: { token: 't' },
      providers: {
        up: { baseUrl: 'https://user:pass@llm.example.com/v1?key=s3cret&region=cn', apiKey: 'sk-1', headers: { 'x-api-key': 'h' } },
      },
      agents: { a: { tools: [{ url: 'https://tools.example.com/lookup?token=abc', headers: { authorization: 'Bearer z' } }] } },
    }) as Record<string, any>;
    assert.deepEqual(redacted.server, { apiKeys: ['[redacted]', '[redacted]'], port: 8083 });
    assert.deepEqual(redacted.admin.apiKeys, []);
    assert.equal(redacted.metrics.apiKey, '[redacted]');
    assert.equal(redacted.callbacks.token, '[redacted]');
    assert.equal(redacted.providers.up.apiKey, '[redacted]');
    assert.deepEqual(redacted.providers.up.headers, { 'x-api-key': '[redacted]' });
    assert.doesNotMatch(redacted.providers.up.baseUrl, /pass|s3cret|user:/);
    assert.match(redacted.providers.up.baseUrl, /^https:\/\/redacted@llm\.example\.com\/v1\?key=/);
    const text = JSON.stringify(redacted);
    for (const secret of ['k1', 'sk-1', 's3cret', 'Bearer z', 'token=abc']) assert.ok(!text.includes(secret), secret);
  });
});
