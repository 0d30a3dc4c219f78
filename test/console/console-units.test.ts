import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleSessions, cookieValue } from '../../src/server/console/console-sessions.ts';
import { LiveFeed, type LiveEvent } from '../../src/server/console/live-feed.ts';
import { redactConfig } from '../../src/server/console/redact-config.ts';
import { SignInThrottle } from '../../src/server/console/sign-in-throttle.ts';
import type { TurnRecord } from '../../src/store/turn-record.ts';
import { TurnReport } from '../../src/telemetry/turn-report.ts';

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

describe('LiveFeed', () => {
  const report = (instanceId: string, id: string) => {
    const turn = new TurnReport('support', 'qwen', { instanceId, callerNumber: '13800000001', userDataInvalid: false }, true);
    turn.id = id;
    turn.callerText = 'where is my parcel';
    return turn;
  };
  const ended = (instanceId: string, id: string, signal: string | null): TurnRecord =>
    ({ id, instanceId, channelId: null, outcome: 'ok', signal, ttftMs: 120, answerText: 'It arrives tomorrow.' }) as TurnRecord;

  it('tells watchers each turn, each piece of text as it is sent, and how the turn ended', () => {
    const feed = new LiveFeed({ mask: (value) => (value === undefined ? null : `masked:${value.slice(-2)}`) });
    const events: LiveEvent[] = [];
    const stop = feed.subscribe((event) => events.push(event));
    const turn = report('call-1', 't-1');
    feed.started(turn);
    turn.text('It arrives ');
    turn.text('tomorrow.');
    assert.deepEqual(feed.snapshot()[0]?.current?.text, 'It arrives tomorrow.');
    assert.equal(feed.snapshot()[0]?.callerNumber, 'masked:01', 'numbers are masked as in the records');
    feed.ended(ended('call-1', 't-1', 'hangup'));
    stop();
    assert.deepEqual(
      events.map((event) => event.type),
      ['turn', 'text', 'text', 'ended'],
    );
    const last = feed.snapshot()[0]!;
    assert.equal(last.current, null);
    assert.deepEqual(last.last, { id: 't-1', outcome: 'ok', signal: 'hangup', ttftMs: 120, answerText: 'It arrives tomorrow.' });
  });

  it('does nothing for a turn nobody watches, and a watcher who comes mid-turn sees its text so far, then the rest', () => {
    const feed = new LiveFeed({ mask: (value) => (value === undefined ? null : `masked:${value.slice(-2)}`) });
    const turn = report('call-1', 't-1');
    feed.started(turn);
    assert.equal(turn.onText, undefined, 'no text is told while nobody watches');
    turn.text('It arrives ');
    const events: LiveEvent[] = [];
    const stop = feed.subscribe((event) => events.push(event));
    const [call] = feed.snapshot();
    assert.equal(call?.current?.text, 'It arrives ');
    assert.equal(call?.current?.id, 't-1');
    assert.equal(call?.callerNumber, 'masked:01');
    turn.text('tomorrow.');
    feed.ended(ended('call-1', 't-1', null));
    stop();
    assert.deepEqual(
      events.map((event) => (event.type === 'text' ? `text:${event.turnId}:${event.text}` : event.type)),
      ['text:t-1:tomorrow.', 'ended'],
    );
    turn.text(' more');
    assert.equal(events.length, 2, 'nothing is told once the watcher left');
  });

  it('keeps at most 1000 calls while nobody watches, dropping the oldest', () => {
    const feed = new LiveFeed({ mask: () => null });
    for (let i = 0; i < 1005; i++) {
      feed.started(report(`call-${i}`, `t-${i}`));
      feed.ended(ended(`call-${i}`, `t-${i}`, null));
    }
    feed.started(report('call-last', 't-last'));
    const calls = feed.snapshot().map((call) => call.instanceId);
    assert.equal(calls.length, 1000);
    assert.equal(calls[0], 'call-last');
    assert.ok(!calls.includes('call-5') && calls.includes('call-6'));
  });

  it('drops a call 15 s after it hung up, and an idle one after 2 minutes', () => {
    const feed = new LiveFeed({ mask: () => null });
    feed.started(report('hung-up', 't-1'));
    feed.ended(ended('hung-up', 't-1', 'hangup'));
    feed.started(report('quiet', 't-2'));
    feed.ended(ended('quiet', 't-2', null));
    const now = Date.now();
    assert.deepEqual(
      feed.snapshot(now + 16_000).map((call) => call.instanceId),
      ['quiet'],
    );
    assert.deepEqual(feed.snapshot(now + 121_000), []);
  });
});

describe('SignInThrottle', () => {
  it('refuses an address after too many failures within the window, until it passes; success clears it', () => {
    let now = 0;
    const throttle = new SignInThrottle({ maxFailures: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      assert.equal(throttle.retryAfterSeconds('10.0.0.1'), 0);
      throttle.failed('10.0.0.1');
    }
    now = 20_000;
    assert.equal(throttle.retryAfterSeconds('10.0.0.1'), 40);
    assert.equal(throttle.retryAfterSeconds('10.0.0.2'), 0, 'other addresses are not affected');
    now = 60_000;
    assert.equal(throttle.retryAfterSeconds('10.0.0.1'), 0);
    throttle.failed('10.0.0.3');
    throttle.succeeded('10.0.0.3');
    throttle.failed('10.0.0.3');
    throttle.failed('10.0.0.3');
    assert.equal(throttle.retryAfterSeconds('10.0.0.3'), 0);
  });
});
