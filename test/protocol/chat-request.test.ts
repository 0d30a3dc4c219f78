import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseChatRequest } from '../../src/protocol/chat-request.ts';
import { GatewayError } from '../../src/core/gateway-error.ts';

const base = { model: 'support', messages: [{ role: 'user', content: 'hi' }] };

function rejects(body: unknown): GatewayError {
  try {
    parseChatRequest(body);
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 400);
    return error;
  }
  assert.fail('expected a 400');
}

describe('parseChatRequest', () => {
  it('refuses a body nested deeper than 64 levels (anywhere) with 400 too_deeply_nested', () => {
    const nest = (levels: number): unknown => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);
    assert.equal(rejects({ ...base, metadata: nest(64) }).code, 'too_deeply_nested');
    assert.equal(rejects({ ...base, messages: [{ role: 'user', content: 'hi', x: nest(100_000) }] }).code, 'too_deeply_nested');
    assert.doesNotThrow(() => parseChatRequest({ ...base, metadata: nest(62) }));
  });

  it('keeps userData too deep to serialise as raw text only (flagged invalid, never handed to tools)', () => {
    const raw = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const turn = parseChatRequest({ ...base, extendData: { instanceId: 'i', userData: raw } });
    assert.equal(turn.call.userDataRaw, raw);
    assert.equal(turn.call.userData, undefined);
    assert.equal(turn.call.userDataInvalid, true);
  });

  it('reads the IMS request: sentenceId as string or number, userData kept raw and parsed', () => {
    const turn = parseChatRequest(
      {
        ...base,
        stream: true,
        extendData: { instanceId: 'i-1', channelId: 'c', sentenceId: '3', callerNumber: '13800000001', userData: '{"a":{"b":1}}' },
      },
      { task_id: 't' },
    );
    assert.equal(turn.stream, true);
    assert.deepEqual(turn.call, {
      instanceId: 'i-1',
      channelId: 'c',
      sentenceId: 3,
      callerNumber: '13800000001',
      userDataRaw: '{"a":{"b":1}}',
      userData: { a: { b: 1 } },
      userDataInvalid: false,
    });
    assert.deepEqual(turn.query, { task_id: 't' });
    assert.equal(parseChatRequest({ ...base, extendData: { sentenceId: 7 } }).call.sentenceId, 7);
  });

  it('never rejects a userData that is not JSON', () => {
    const turn = parseChatRequest({ ...base, extendData: { userData: 'vip customer' } });
    assert.equal(turn.call.userDataRaw, 'vip customer');
    assert.equal(turn.call.userData, undefined);
    assert.equal(turn.call.userDataInvalid, true);
    assert.equal(parseChatRequest({ ...base, extendData: { userData: '' } }).call.userDataInvalid, false);
    const objectUserData = parseChatRequest({ ...base, extendData: { userData: { a: 1 } } }).call;
    assert.equal(objectUserData.userDataRaw, '{"a":1}');
    assert.deepEqual(objectUserData.userData, { a: 1 });
  });

  it('works without extendData, defaults to non-streaming, tolerates unknown fields', () => {
    const turn = parseChatRequest({ ...base, some_vendor_field: { x: 1 } });
    assert.equal(turn.stream, false);
    assert.deepEqual(turn.call, { userDataInvalid: false });
    assert.equal('some_vendor_field' in turn.params, false);
  });

  it('relays standard parameters and drops nulls', () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: {} } }];
    const turn = parseChatRequest({
      ...base,
      temperature: 0.2,
      max_tokens: 50,
      stop: ['\n'],
      tools,
      tool_choice: 'auto',
      top_p: null,
      stream_options: { include_usage: true },
    });
    assert.deepEqual(turn.params, { temperature: 0.2, max_tokens: 50, stop: ['\n'], tools, tool_choice: 'auto' });
    assert.equal(turn.includeUsage, true);
  });

  it('accepts multimodal content parts', () => {
    const turn = parseChatRequest({
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } },
          ],
        },
      ],
    });
    assert.equal(Array.isArray(turn.messages[0]!.content), true);
  });

  it('names the offending field', () => {
    assert.equal(rejects({ messages: base.messages }).param, 'model');
    // Echoed in every chunk: an unbounded name would multiply the stream (100x with 100 KB).
    const long = rejects({ ...base, model: 'm'.repeat(257) });
    assert.equal(long.param, 'model');
    assert.equal(long.status, 400);
    assert.match(long.message, /model.*at most 256 characters/);
    assert.equal(parseChatRequest({ ...base, model: 'm'.repeat(256) }).model.length, 256);
    assert.equal(rejects({ ...base, messages: 'hi' }).param, 'messages');
    assert.equal(rejects({ ...base, messages: [{ role: 'user', content: 5 }] }).param, 'messages[0].content');
    assert.equal(
      rejects({ ...base, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }).param,
      'messages[0].content[0].image_url.url',
    );
    assert.equal(rejects({ ...base, temperature: 'hot' }).param, 'temperature');
    assert.equal(rejects({ ...base, stream: 'yes' }).param, 'stream');
    assert.equal(rejects({ ...base, extendData: { sentenceId: -1 } }).param, 'extendData.sentenceId');
    assert.equal(rejects({ ...base, n: 2 }).param, 'n');
    assert.equal(rejects(null).code, 'invalid_body');
  });

  it('refuses call ids a map key, a log line or a database column cannot hold, naming the field', () => {
    const refused = (extendData: Record<string, unknown>) => rejects({ ...base, extendData });
    // A 400-digit sentenceId parsed to Infinity; above 2^53 it is no longer exact; above 2^63 no BIGINT holds it.
    for (const sentenceId of ['9'.repeat(400), '9007199254740992', 2 ** 63, 1.5, '1e3', '']) {
      const error = refused({ sentenceId });
      assert.equal(error.param, 'extendData.sentenceId', String(sentenceId));
      assert.match(error.message, /integer from 0 to 9007199254740991/);
    }
    assert.equal(parseChatRequest({ ...base, extendData: { sentenceId: '9007199254740991' } }).call.sentenceId, Number.MAX_SAFE_INTEGER);
    assert.equal(parseChatRequest({ ...base, extendData: { sentenceId: ' 0 ' } }).call.sentenceId, 0);
    for (const field of ['instanceId', 'channelId', 'callerNumber', 'calleeNumber']) {
      assert.match(refused({ [field]: 'a\u0000b' }).message, new RegExp(`extendData\\.${field}: must not contain control characters`));
      assert.equal(refused({ [field]: 'line\nbreak' }).param, `extendData.${field}`);
      assert.match(refused({ [field]: 'x'.repeat(257) }).message, /at most 256 characters/);
      assert.match(refused({ [field]: 'half \ud800 pair' }).message, /well-formed/);
      assert.match(refused({ [field]: { id: 1 } }).message, /must be a string or a number/);
    }
    assert.equal(parseChatRequest({ ...base, extendData: { instanceId: 'x'.repeat(256), channelId: 42 } }).call.channelId, '42');
  });
});
