import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { startMockUpstream, textEvents, toolCallEvents, type MockUpstream } from '../../tools/testing/mock-upstream.ts';
import { imsRequest, readStream, startTestGateway } from '../support/gateway-harness.ts';

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

/** OTLP/HTTP JSON: resourceSpans[].scopeSpans[].spans[]. */
function spansOf(body: string): Span[] {
  const parsed = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Span[] }> }> };
  return parsed.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
}

describe('tracing through the real gateway (OTEL_* variables set)', () => {
  let collector: Server;
  const received: Span[] = [];
  let upstream: MockUpstream;
  let toolServer: Server;
  const saved = { ...process.env };

  before(async () => {
    collector = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      if (req.url === '/v1/traces') received.push(...spansOf(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    toolServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"stock":3}'));
    toolServer.listen(0, '127.0.0.1');
    await once(toolServer, 'listening');
    upstream = await startMockUpstream();
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    delete process.env.OTEL_SDK_DISABLED;
  });
  after(async () => {
    process.env = saved;
    collector.close();
    toolServer.close();
    await upstream.close();
  });

  it("exports a span per turn with a child span per upstream attempt and tool call, in the caller's trace", async () => {
    const gateway = await startTestGateway({
      providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url } },
      agents: {
        shop: {
          provider: 'mock',
          model: 'm',
          tools: [
            { name: 'stock', description: 'Stock level.', url: `http://127.0.0.1:${(toolServer.address() as AddressInfo).port}/stock` },
          ],
        },
      },
    });
    upstream.respondWith((request) =>
      JSON.stringify(request.body).includes('"role":"tool"')
        ? { events: textEvents('Three left.') }
        : { events: toolCallEvents([{ name: 'stock', arguments: '{}' }]) },
    );
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const stream = await readStream(
      await gateway.post('/v1/chat/completions', imsRequest('shop', 'how many left?'), {
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      }),
    );
    assert.equal(stream.text, 'Three left.');
    await gateway.close(); // flushes the exporter

    const turn = received.find((span) => span.name.startsWith('turn '));
    assert.ok(turn, `a turn span, got ${received.map((s) => s.name).join(', ')}`);
    assert.equal(turn.traceId, traceId, "the turn joins the caller's trace");
    const children = received.filter((span) => span.parentSpanId === turn.spanId);
    assert.equal(children.filter((span) => span.name.startsWith('chat ')).length, 2, 'one span per upstream attempt (two rounds)');
    assert.equal(children.filter((span) => span.name === 'execute_tool stock').length, 1, 'one span per tool call');
  });
});
