import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCheck } from '../../../tools/cli/commands/check.ts';
import type { CheckReport } from '../../../tools/check/suite.ts';
import { startMockUpstream, type MockUpstream } from '../../../tools/testing/mock-upstream.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../../support/gateway-harness.ts';
import { textSink } from '../../support/text-sink.ts';

/**
 * A server that streams well but decides by the Accept header, not the body's stream flag (it
 * answers one JSON completion when Accept names another type, as a JSON client's does), on every path.
 */
function acceptDecides(request: IncomingMessage, response: ServerResponse): void {
  request.resume();
  request.on('end', () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    if (
      !(request.headers.accept ?? '').includes('text/event-stream') &&
      request.headers.accept !== undefined &&
      request.headers.accept !== '*/*'
    ) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.' }, finish_reason: 'stop' }],
        }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end(
      `${chunk({ role: 'assistant', content: '' }, null) + chunk({ content: 'Hi.' }, null) + chunk({}, 'stop')}data: [DONE]\n\n`,
    );
  });
}

describe('voice-llm-gateway check --platform', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;
  let broken: Server;
  let brokenUrl: string;
  before(async () => {
    upstream = await startMockUpstream();
    gateway = await startTestGateway({
      providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-upstream', retry: { maxRetries: 0 } } },
      agents: { support: { provider: 'mock', model: 'qwen-plus' } },
    });
    broken = createServer(acceptDecides);
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
    await new Promise((resolve) => broken.close(resolve));
  });

  const check = async (platform: string, baseUrl: string) => {
    const output = textSink();
    const error = textSink();
    const code = await runCheck(['--platform', platform, '--base-url', baseUrl, '--api-key', TEST_KEY, '--model', 'support', '--json'], {
      output,
      error,
    });
    assert.equal(error.text(), '');
    return { code, report: JSON.parse(output.text()) as CheckReport };
  };
  const statuses = (report: CheckReport) => Object.fromEntries(report.cases.map((c) => [c.id, c.status]));

  it('passes the gateway on Vapi: stream rules, streaming by the body, the doubled path', async () => {
    const { code, report } = await check('vapi', gateway.url);
    assert.deepEqual(
      statuses(report),
      { 'platform-stream': 'pass', 'vapi-stream-by-body': 'pass', 'vapi-doubled-path': 'pass' },
      JSON.stringify(report.cases),
    );
    assert.equal(code, 0);
    assert.equal(report.baseUrl, `${gateway.url}/vapi/v1`);
  });

  it('passes the gateway on ElevenLabs, and skips what TRTC cannot show from outside', async () => {
    const elevenLabs = await check('elevenlabs', gateway.url);
    assert.deepEqual(statuses(elevenLabs.report), { 'platform-stream': 'pass', 'elevenlabs-done': 'pass' });
    assert.equal(elevenLabs.code, 0);
    const trtc = await check('trtc', gateway.url);
    assert.deepEqual(statuses(trtc.report), { 'platform-stream': 'pass', 'trtc-retry-once': 'skip' });
    assert.equal(trtc.code, 0);
  });

  it('fails a server that ignores the body stream flag on Vapi', async () => {
    const { code, report } = await check('vapi', brokenUrl);
    assert.equal(statuses(report)['vapi-stream-by-body'], 'fail');
    assert.equal(statuses(report)['platform-stream'], 'pass');
    assert.equal(code, 1);
  });
});
