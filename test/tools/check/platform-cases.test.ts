import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCheck } from '../../../tools/cli/commands/check.ts';
import type { CheckReport } from '../../../tools/check/suite.ts';
import {
  startMockUpstream,
  textEvents,
  type MockScenario,
  type MockUpstream,
  type RecordedRequest,
} from '../../../tools/testing/mock-upstream.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../../support/gateway-harness.ts';
import { textSink } from '../../support/text-sink.ts';

type Body = { messages: Array<{ role: string; content: string }>; max_tokens?: number };

/**
 * The model behind the gateway: it honours max_tokens (a limit under 10 stops at five words with
 * finish_reason "length"), answers a long question slowly (to be cut), and numbers its random
 * numbers, so a second model run for a retry would show in the answer.
 */
function model(): (request: RecordedRequest) => MockScenario {
  let runs = 0;
  return (request) => {
    const body = request.body as Body;
    const words = String(body.messages.findLast((m) => m.role === 'user')?.content ?? '').toLowerCase();
    if (body.max_tokens !== undefined && body.max_tokens < 10)
      return { events: textEvents('one two three four five', { finishReason: 'length' }) };
    if (words.includes('random')) return { events: textEvents(`Your number is ${++runs}, truly at random.`), eventIntervalMs: 30 };
    if (words.includes('tell me everything')) return { events: textEvents('There is a lot to say. '.repeat(20)), eventIntervalMs: 15 };
    return { events: textEvents('Hello, I can hear you.') };
  };
}

/**
 * A server that gets each platform's own rule wrong, on every path: the same completion id on
 * every answer, maxTokens ignored (a long answer), any new request of a call cuts the one
 * streaming (round_id unread), every run of the model a new number (no retry joining), a 400 for
 * a request without X-Call-Id or with unknown message fields.
 */
function brokenServer(): (request: IncomingMessage, response: ServerResponse) => void {
  let runs = 0;
  const streaming = new Map<string, ServerResponse>();
  return (request, response) => {
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (piece: string) => (raw += piece));
    request.on('end', () => {
      const body = JSON.parse(raw) as Body & { call_id?: string };
      const refuse = (message: string) => {
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } }));
      };
      if (body.messages.some((m) => Object.keys(m).some((key) => key !== 'role' && key !== 'content')))
        return refuse('Unrecognized message field');
      const call = String(request.headers['x-call-id'] ?? request.headers['x-agora-customllm-channel'] ?? body.call_id ?? '');
      if (call === '') return refuse('X-Call-Id is required');
      streaming.get(call)?.destroy();
      streaming.set(call, response);
      const words = String(body.messages.at(-1)?.content ?? '');
      const text = words.includes('random')
        ? `Number ${++runs} it is.`
        : 'word '.repeat(words.includes('everything') || words.includes('Count') ? 80 : 4);
      const chunk = (delta: Record<string, unknown>, finish: string | null) =>
        `data: ${JSON.stringify({ id: 'chatcmpl-always-the-same', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const pieces = [
        chunk({ role: 'assistant', content: '' }, null),
        ...text.match(/.{1,5}/gs)!.map((t) => chunk({ content: t }, null)),
        chunk({}, 'stop'),
        'data: [DONE]\n\n',
      ];
      let at = 0;
      const timer = setInterval(() => {
        if (response.destroyed) return clearInterval(timer);
        response.write(pieces[at++]);
        if (at === pieces.length) {
          clearInterval(timer);
          response.end();
        }
      }, 10);
    });
  };
}

describe('voice-llm-gateway check --platform: Volcengine, Agora, LiveKit and Pipecat rules', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;
  let broken: Server;
  let brokenUrl: string;
  before(async () => {
    upstream = await startMockUpstream(model());
    gateway = await startTestGateway({
      providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-upstream', retry: { maxRetries: 0 } } },
      agents: { support: { provider: 'mock', model: 'qwen-plus' } },
    });
    broken = createServer(brokenServer());
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
    broken.closeAllConnections();
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

  it('passes the gateway on every platform, each rule exercised', async () => {
    const expected: Record<string, Record<string, string>> = {
      volcengine: {
        'platform-stream': 'pass',
        'volcengine-distinct-ids': 'pass',
        'volcengine-max-tokens': 'pass',
        'volcengine-prefill': 'pass',
        'volcengine-late-round': 'pass',
      },
      agora: { 'platform-stream': 'pass', 'agora-history-fields': 'pass', 'agora-headers': 'pass' },
      livekit: { 'platform-stream': 'pass', 'livekit-retry-once': 'pass' },
      pipecat: { 'platform-stream': 'pass', 'pipecat-plain-body': 'pass', 'pipecat-user-call-id': 'pass' },
    };
    for (const [platform, cases] of Object.entries(expected)) {
      const before = upstream.requests.length;
      const { code, report } = await check(platform, gateway.url);
      assert.deepEqual(statuses(report), cases, `${platform}: ${JSON.stringify(report.cases)}`);
      assert.equal(code, 0);
      if (platform === 'livekit') {
        const runs = upstream.requests.slice(before).filter((r) => JSON.stringify(r.body).includes('random'));
        assert.equal(runs.length, 1, 'the retry joined the first run: the model ran once');
      }
      if (platform === 'volcengine') {
        assert.ok(
          upstream.requests.slice(before).some((r) => (r.body as Body).max_tokens === 5),
          'maxTokens reached the model as max_tokens',
        );
      }
    }
  });

  it("fails a server that breaks each platform's own rule", async () => {
    const expected: Record<string, Record<string, string>> = {
      volcengine: { 'volcengine-distinct-ids': 'fail', 'volcengine-max-tokens': 'fail', 'volcengine-late-round': 'fail' },
      agora: { 'agora-history-fields': 'fail' },
      livekit: { 'livekit-retry-once': 'fail' },
      pipecat: { 'pipecat-plain-body': 'fail', 'pipecat-user-call-id': 'fail' },
    };
    for (const [platform, cases] of Object.entries(expected)) {
      const { code, report } = await check(platform, brokenUrl);
      const seen = statuses(report);
      for (const [id, status] of Object.entries(cases))
        assert.equal(seen[id], status, `${platform} ${id}: ${JSON.stringify(report.cases)}`);
      assert.equal(code, 1);
    }
    const { report } = await check('livekit', brokenUrl);
    const retry = report.cases.find((c) => c.id === 'livekit-retry-once')!.findings.find((f) => f.rule === 'retry-twice')!;
    assert.match(retry.quote!, /first: Number \d+.* \| retry: Number \d+/);
  });
});
