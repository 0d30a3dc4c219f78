import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { DEFAULT_SERVICE_NAME, noopTracing, startTracing } from '../../src/telemetry/tracing.ts';

/** What the fake collector received. */
interface Export {
  method: string;
  url: string;
  contentType: string;
  body: Buffer;
}

/** A span as read back from an export, whatever its encoding (ids in hex). */
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  statusCode: number;
  attributes: Record<string, string>;
}

class FakeCollector {
  readonly exports: Export[] = [];
  readonly #server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const contentType = request.headers['content-type'] ?? '';
      this.exports.push({ method: request.method ?? '', url: request.url ?? '', contentType, body: Buffer.concat(chunks) });
      // An empty ExportTraceServiceResponse.
      response.writeHead(200, { 'content-type': contentType.includes('json') ? 'application/json' : 'application/x-protobuf' });
      response.end(contentType.includes('json') ? '{}' : '');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  clear(): void {
    this.exports.length = 0;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

// ---- OTLP/JSON ----------------------------------------------------------------------------------

interface JsonKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
}
interface JsonExport {
  resourceSpans: Array<{
    resource: { attributes: JsonKeyValue[] };
    scopeSpans: Array<{
      spans: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        status?: { code?: number };
        attributes: JsonKeyValue[];
      }>;
    }>;
  }>;
}

function jsonAttributes(list: JsonKeyValue[]): Record<string, string> {
  return Object.fromEntries(list.map(({ key, value }) => [key, String(value.stringValue ?? value.intValue ?? value.boolValue)]));
}

function spansFromJson(body: Buffer): { spans: ExportedSpan[]; resources: Array<Record<string, string>> } {
  const parsed = JSON.parse(body.toString('utf8')) as JsonExport;
  const spans: ExportedSpan[] = [];
  for (const resourceSpans of parsed.resourceSpans) {
    for (const scope of resourceSpans.scopeSpans) {
      for (const span of scope.spans) {
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          name: span.name,
          statusCode: span.status?.code ?? 0,
          attributes: jsonAttributes(span.attributes),
        });
      }
    }
  }
  return { spans, resources: parsed.resourceSpans.map((r) => jsonAttributes(r.resource.attributes)) };
}

// ---- OTLP/protobuf: a minimal wire-format reader --------------------------------------------------

type Field = { number: number; wire: number; value: bigint | Buffer };

function readFields(buffer: Buffer): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buffer[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
  };
  while (at < buffer.length) {
    const key = Number(varint());
    const wire = key & 7;
    const number = key >>> 3;
    if (wire === 0) fields.push({ number, wire, value: varint() });
    else if (wire === 1) fields.push({ number, wire, value: buffer.subarray(at, (at += 8)) });
    else if (wire === 5) fields.push({ number, wire, value: buffer.subarray(at, (at += 4)) });
    else if (wire === 2) {
      const length = Number(varint());
      fields.push({ number, wire, value: buffer.subarray(at, (at += length)) });
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return fields;
}

const sub = (fields: Field[], number: number): Buffer[] =>
  fields.filter((f) => f.number === number && f.wire === 2).map((f) => f.value as Buffer);

function protoAttributes(fields: Field[], number: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of sub(fields, number)) {
    const kvFields = readFields(kv);
    const key = sub(kvFields, 1)[0]?.toString('utf8') ?? '';
    const anyValue = readFields(sub(kvFields, 2)[0] ?? Buffer.alloc(0))[0];
    // AnyValue: 1 string, 2 bool, 3 int.
    out[key] = anyValue === undefined ? '' : Buffer.isBuffer(anyValue.value) ? anyValue.value.toString('utf8') : String(anyValue.value);
  }
  return out;
}

/** ExportTraceServiceRequest → ResourceSpans(1) → {Resource(1), ScopeSpans(2) → Span(2)}. */
function spansFromProtobuf(body: Buffer): { spans: ExportedSpan[]; resources: Array<Record<string, string>> } {
  const spans: ExportedSpan[] = [];
  const resources: Array<Record<string, string>> = [];
  for (const resourceSpans of sub(readFields(body), 1)) {
    const rsFields = readFields(resourceSpans);
    resources.push(protoAttributes(readFields(sub(rsFields, 1)[0] ?? Buffer.alloc(0)), 1));
    for (const scopeSpans of sub(rsFields, 2)) {
      for (const span of sub(readFields(scopeSpans), 2)) {
        const f = readFields(span);
        const status = sub(f, 15)[0];
        const statusCode = status === undefined ? 0 : Number(readFields(status).find((x) => x.number === 3)?.value ?? 0n);
        spans.push({
          traceId: sub(f, 1)[0]?.toString('hex') ?? '',
          spanId: sub(f, 2)[0]?.toString('hex') ?? '',
          parentSpanId: sub(f, 4)[0]?.toString('hex') ?? '',
          name: sub(f, 5)[0]?.toString('utf8') ?? '',
          statusCode,
          attributes: protoAttributes(f, 9),
        });
      }
    }
  }
  return { spans, resources };
}

function byName(spans: ExportedSpan[], name: string): ExportedSpan {
  const found = spans.filter((span) => span.name === name);
  assert.equal(found.length, 1, `expected one span named "${name}", got ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

/** One turn as the gateway would trace it: a failed attempt, a committed one and a tool call. */
function traceOneTurn(tracing: ReturnType<typeof startTracing>, traceparent?: string): string | undefined {
  const turn = tracing.startTurn({ agent: 'support', stream: true, instanceId: 'call-1', sentenceId: 3, traceparent });
  const first = turn.attempt('fast', 'fast-model');
  first.end(
    'failed',
    new GatewayError('Upstream fast did not answer in time.', { status: 504, type: 'timeout_error', code: 'upstream_first_token_timeout' }),
  );
  const second = turn.attempt('backup', 'backup-model');
  second.end('committed');
  turn.firstToken();
  const tool = turn.tool('lookup_order');
  tool.end('ok');
  tool.end('ignored: ended twice');
  turn.set({ 'vlg.provider': 'backup' });
  turn.end('ok');
  return turn.traceId;
}

function assertTurnStructure(spans: ExportedSpan[], traceId: string | undefined): void {
  assert.equal(spans.length, 4, `spans: ${spans.map((s) => s.name).join(', ')}`);
  const turn = byName(spans, 'turn support');
  const failed = byName(spans, 'chat fast-model');
  const committed = byName(spans, 'chat backup-model');
  const tool = byName(spans, 'execute_tool lookup_order');
  assert.equal(turn.parentSpanId, '');
  for (const child of [failed, committed, tool]) {
    assert.equal(child.parentSpanId, turn.spanId, `${child.name} is a child of the turn`);
    assert.equal(child.traceId, turn.traceId);
  }
  assert.equal(turn.traceId, traceId);
  assert.equal(new Set(spans.map((s) => s.spanId)).size, 4);

  assert.equal(turn.attributes['vlg.agent'], 'support');
  assert.equal(turn.attributes['vlg.call.instance_id'], 'call-1');
  assert.equal(turn.attributes['vlg.outcome'], 'ok');
  assert.equal(turn.attributes['vlg.provider'], 'backup');
  assert.equal(failed.attributes['gen_ai.provider.name'], 'fast');
  assert.equal(failed.attributes['gen_ai.request.model'], 'fast-model');
  assert.equal(failed.attributes['vlg.outcome'], 'failed');
  assert.equal(failed.attributes['error.type'], 'upstream_first_token_timeout');
  assert.equal(failed.statusCode, 2); // ERROR
  assert.equal(committed.attributes['vlg.outcome'], 'committed');
  assert.equal(committed.statusCode, 0);
  assert.equal(tool.attributes['gen_ai.tool.name'], 'lookup_order');
  assert.equal(tool.attributes['vlg.outcome'], 'ok');
}

describe('startTracing', () => {
  const collector = new FakeCollector();
  let base = '';
  before(async () => {
    base = await collector.start();
  });
  after(async () => {
    await collector.stop();
  });

  it('is a no-op without OTEL variables: shared objects, nothing exported', async () => {
    const tracing = startTracing({});
    assert.equal(tracing.enabled, false);
    assert.equal(tracing, noopTracing);
    assert.equal(tracing.endpoint, undefined);
    const turn = tracing.startTurn({ agent: 'support' });
    assert.equal(tracing.startTurn({ agent: 'other' }), turn, 'no allocation per turn');
    assert.equal(turn.attempt('a', 'm'), turn.tool('t'), 'no allocation per span');
    assert.equal(turn.traceId, undefined);
    turn.recordAttempt({ provider: 'a', model: undefined, outcome: 'failed', error: new Error('x'), ms: 3 });
    turn.recordTool('t', 3, false, 'timeout');
    turn.firstToken();
    turn.end('ok');
    await tracing.flush();
    await tracing.shutdown();
  });

  it('stays off when the SDK is disabled, the exporter is none or the endpoint is not a URL', async () => {
    collector.clear();
    const endpoint = `${base}/v1/traces`;
    for (const env of [
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' },
      { OTEL_EXPORTER_OTLP_ENDPOINT: base, OTEL_SDK_DISABLED: 'TRUE' },
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'none' },
    ]) {
      const tracing = startTracing(env);
      assert.equal(tracing.enabled, false, JSON.stringify(env));
      traceOneTurn(tracing);
      await tracing.shutdown();
    }
    const invalid = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' });
    assert.equal(invalid.enabled, false);
    assert.equal(invalid.warnings.length, 1);
    assert.equal(collector.exports.length, 0);
  });

  it('exports a turn with its attempts and tool as child spans over OTLP/HTTP JSON', async () => {
    collector.clear();
    const tracing = startTracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${base}/v1/traces`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    assert.equal(tracing.enabled, true);
    assert.equal(tracing.protocol, 'http/json');
    assert.equal(tracing.endpoint, `${base}/v1/traces`);
    const traceId = traceOneTurn(tracing);
    assert.match(traceId ?? '', /^[0-9a-f]{32}$/);
    await tracing.shutdown();

    assert.ok(collector.exports.length >= 1, 'spans arrive once shutdown has flushed');
    const spans: ExportedSpan[] = [];
    for (const exported of collector.exports) {
      assert.equal(exported.method, 'POST');
      assert.equal(exported.url, '/v1/traces');
      assert.match(exported.contentType, /^application\/json/);
      const decoded = spansFromJson(exported.body);
      spans.push(...decoded.spans);
      for (const resource of decoded.resources) assert.equal(resource['service.name'], DEFAULT_SERVICE_NAME);
    }
    assertTurnStructure(spans, traceId);

    // After shutdown nothing more is sent (and nothing throws).
    const count = collector.exports.length;
    traceOneTurn(tracing);
    await tracing.shutdown();
    await tracing.flush();
    assert.equal(collector.exports.length, count);
  });

  it('exports over OTLP/HTTP protobuf by default, with the service name and the base endpoint', async () => {
    collector.clear();
    const tracing = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: `${base}/`, OTEL_SERVICE_NAME: 'ivr-gateway-eu' });
    assert.equal(tracing.protocol, 'http/protobuf');
    assert.equal(tracing.endpoint, `${base}/v1/traces`);
    const traceId = traceOneTurn(tracing);
    await tracing.shutdown();

    assert.ok(collector.exports.length >= 1);
    const spans: ExportedSpan[] = [];
    for (const exported of collector.exports) {
      assert.equal(exported.url, '/v1/traces');
      assert.equal(exported.contentType, 'application/x-protobuf');
      const decoded = spansFromProtobuf(exported.body);
      spans.push(...decoded.spans);
      for (const resource of decoded.resources) assert.equal(resource['service.name'], 'ivr-gateway-eu');
    }
    assertTurnStructure(spans, traceId);
  });

  it('records attempts and tool calls after the fact, and joins an incoming traceparent', async () => {
    collector.clear();
    const tracing = startTracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${base}/v1/traces`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const remoteTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const remoteSpan = '00f067aa0ba902b7';
    const turn = tracing.startTurn({ agent: 'sales', traceparent: `00-${remoteTrace}-${remoteSpan}-01` });
    turn.recordAttempt({
      provider: 'fast',
      model: undefined,
      outcome: 'retried',
      error: new GatewayError('rate limited', { status: 429, type: 'rate_limit_error', code: 'upstream_rate_limited' }),
      ms: 40,
    });
    turn.recordAttempt({ provider: 'fast', model: undefined, outcome: 'committed', ms: 120 });
    turn.recordTool('book_slot', 30, false, 'http_error');
    turn.end('client_closed');
    assert.equal(turn.traceId, remoteTrace);
    await tracing.shutdown();

    const spans = collector.exports.flatMap((exported) => spansFromJson(exported.body).spans);
    assert.equal(spans.length, 4);
    const root = byName(spans, 'turn sales');
    assert.equal(root.traceId, remoteTrace);
    assert.equal(root.parentSpanId, remoteSpan);
    assert.equal(root.attributes['vlg.outcome'], 'client_closed');
    assert.equal(root.statusCode, 0);
    const attempts = spans.filter((span) => span.name === 'chat fast');
    assert.deepEqual(attempts.map((span) => span.attributes['vlg.outcome']).sort(), ['committed', 'retried']);
    for (const span of attempts) assert.equal(span.parentSpanId, root.spanId);
    const tool = byName(spans, 'execute_tool book_slot');
    assert.equal(tool.parentSpanId, root.spanId);
    assert.equal(tool.attributes['error.type'], 'http_error');
    assert.equal(tool.statusCode, 2);
  });
});
