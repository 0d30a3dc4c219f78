import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cancellation } from '../../src/calls/cancellation.ts';
import { gatewayError } from '../../src/core/error-catalog.ts';
import { errorResponse, rawErrorResponse } from '../../src/server/error-response.ts';

describe('errorResponse: the one way an error becomes an HTTP response', () => {
  it('gives the status, the JSON content type and the OpenAI body', () => {
    const response = errorResponse(gatewayError('not_ready'));
    assert.equal(response.status, 503);
    assert.deepEqual(response.headers, { 'content-type': 'application/json; charset=utf-8' });
    assert.deepEqual(JSON.parse(response.body), {
      error: { message: 'Not ready for traffic.', type: 'server_error', param: null, code: 'not_ready' },
    });
  });

  it('passes Retry-After on, and closes the connection on a 401', () => {
    assert.equal(errorResponse(gatewayError('rate_limit_exceeded', { limit: 5, retryAfterSeconds: 9 })).headers['retry-after'], '9');
    assert.equal(errorResponse(gatewayError('invalid_api_key', { realm: 'chat', failure: 'wrong_api_key' })).headers.connection, 'close');
  });

  it("answers a cancelled turn with its cancellation's catalog error, anything unexpected with a bare 500", () => {
    const superseded = errorResponse(cancellation('superseded'));
    assert.equal(superseded.status, 409);
    assert.equal(JSON.parse(superseded.body).error.code, 'superseded');
    assert.equal(errorResponse(cancellation('shutdown')).status, 503);
    const unexpected = errorResponse(new Error('secret stack detail'));
    assert.equal(unexpected.status, 500);
    assert.ok(!unexpected.body.includes('secret stack detail'));
  });

  it('writes a whole HTTP message for a socket no request was parsed from', () => {
    const text = rawErrorResponse(gatewayError('headers_too_large'));
    const [head, body] = text.split('\r\n\r\n');
    assert.equal(head!.split('\r\n')[0], 'HTTP/1.1 431 Request Header Fields Too Large');
    assert.match(head!, /\r\ncontent-length: \d+\r\nconnection: close$/);
    assert.equal(JSON.parse(body!).error.code, 'headers_too_large');
  });
});
