import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { startTestGateway, TEST_KEY, type TestGateway } from '../support/gateway-harness.ts';

const scriptedOnly = {
  providers: { script: { type: 'scripted', fallback: 'ok {{heard}}' } },
  agents: { alpha: { provider: 'script' }, beta: { provider: 'script' } },
  server: { bodyLimitBytes: 64 * 1024, pathPrefix: '/llm' },
};

function assertOpenAIError(body: unknown, code: string): void {
  const error = (body as { error?: Record<string, unknown> }).error;
  assert.ok(error, `expected an OpenAI error body, got ${JSON.stringify(body)}`);
  assert.equal(typeof error.message, 'string');
  assert.equal(typeof error.type, 'string');
  assert.ok('param' in error);
  assert.equal(error.code, code);
  assert.doesNotMatch(JSON.stringify(body), /at .*\.ts:\d+/, 'no stack trace on the wire');
}

describe('HTTP errors are OpenAI-shaped 4xx and the server keeps serving', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(scriptedOnly);
  });
  after(() => gateway.close());

  it('401 without a key, with a wrong key and with a malformed header', async () => {
    for (const authorization of [undefined, 'Bearer wrong-key', `Basic ${TEST_KEY}`]) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (authorization) headers.authorization = authorization;
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'alpha', messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(response.status, 401);
      assertOpenAIError(await response.json(), 'invalid_api_key');
    }
    const models = await fetch(`${gateway.url}/v1/models`);
    assert.equal(models.status, 401);
  });

  it('400 for invalid JSON, an empty body, a non-object and a bad shape naming the field', async () => {
    let response = await gateway.post('/v1/chat/completions', '{"model": "alpha", ');
    assert.equal(response.status, 400);
    assertOpenAIError(await response.json(), 'invalid_json');

    response = await gateway.post('/v1/chat/completions', '[1,2]');
    assert.equal(response.status, 400);
    assertOpenAIError(await response.json(), 'invalid_body');

    response = await gateway.post('/v1/chat/completions', { model: 'alpha', messages: [{ role: 'robot', content: 'x' }] });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { message: string; param: string } };
    assertOpenAIError(body, 'invalid_request');
    assert.equal(body.error.param, 'messages[0].role');
    assert.match(body.error.message, /messages\[0\]\.role/);

    response = await gateway.post('/v1/chat/completions', { model: 'alpha', messages: [] });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { param: string } }).error.param, 'messages');

    response = await gateway.post('/v1/chat/completions', {
      model: 'alpha',
      messages: [{ role: 'user', content: 'hi' }],
      extendData: { sentenceId: 'three' },
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { param: string } }).error.param, 'extendData.sentenceId');
  });

  it('404 for an unknown model lists the available ones; 404 for an unknown route', async () => {
    let response = await gateway.post('/v1/chat/completions', { model: 'gamma', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(response.status, 404);
    const body = (await response.json()) as { error: { message: string } };
    assertOpenAIError(body, 'model_not_found');
    assert.match(body.error.message, /alpha, beta/);

    response = await fetch(`${gateway.url}/v1/completions`, { method: 'POST' });
    assert.equal(response.status, 404);
    assertOpenAIError(await response.json(), 'unknown_route');
  });

  it('405 with Allow for a wrong method on a known path', async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'GET' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
    assertOpenAIError(await response.json(), 'method_not_allowed');
  });

  it('413 over the body limit', async () => {
    const response = await gateway.post('/v1/chat/completions', {
      model: 'alpha',
      messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }],
    });
    assert.equal(response.status, 413);
    assertOpenAIError(await response.json(), 'request_too_large');
  });

  it('415 for a non-JSON content type', async () => {
    const response = await gateway.post('/v1/chat/completions', 'model=alpha', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(response.status, 415);
    assertOpenAIError(await response.json(), 'unsupported_media_type');
  });

  it('400 for a Content-Length that lies, without hurting the server', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${gateway.url}/v1/chat/completions`);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}`, 'content-length': '2' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    assert.ok(status >= 400 && status < 500, `status ${status}`);
  });

  it('serves the same routes under server.pathPrefix, and /models without /v1', async () => {
    const response = await gateway.post('/llm/chat/completions', { model: 'alpha', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(response.status, 200);
    const models = await fetch(`${gateway.url}/llm/models`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    assert.deepEqual(
      ((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id),
      ['alpha', 'beta'],
    );
  });

  it('health and readiness need no key; the server is still healthy after all of the above', async () => {
    assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
    const ready = await fetch(`${gateway.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', records: 'ok' });
    assert.doesNotMatch(gateway.logText(), new RegExp(TEST_KEY), 'the API key never appears in a log');
  });
});
