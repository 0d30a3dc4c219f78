import { createRequire } from 'node:module';
import {
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry tracing of turns: one span per turn, a child span per upstream attempt and per
 * tool call. Off unless the standard variables ask for it (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it
 * off); when off every call is a no-op on shared objects (nothing is allocated).
 *
 * Spans go through a BatchSpanProcessor to an OTLP/HTTP exporter, protobuf or JSON per
 * OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL (default http/protobuf, as the
 * spec says). The tracer provider is private to the gateway — nothing is registered globally — so
 * several gateways can run in one process; parents are passed explicitly as contexts.
 * Sampling and batching follow the SDK's own variables (OTEL_TRACES_SAMPLER, OTEL_BSP_*), read
 * from process.env by the SDK.
 */

export type TraceAttributes = Record<string, string | number | boolean | undefined>;

export interface TurnAttributes {
  agent: string;
  stream?: boolean;
  /** The completion id sent to the client. */
  turnId?: string;
  instanceId?: string;
  channelId?: string;
  sentenceId?: number;
  /** The request's W3C `traceparent` header: the turn joins the caller's trace. */
  traceparent?: string;
}

export interface SpanHandle {
  /** Ends the span; an error marks it failed. Only the first call counts. */
  end(outcome?: string, error?: unknown): void;
}

/** An attempt as the provider chain reports it (AttemptEvent fits). */
export interface AttemptSpanEvent {
  provider: string;
  model: string | undefined;
  outcome: string;
  error?: unknown;
  /** From the attempt's start to its outcome. */
  ms: number;
}

export interface TurnSpan {
  /** The turn's trace id (for log lines), when traced. */
  readonly traceId: string | undefined;
  /** Starts an upstream attempt's span now; end it when the attempt's outcome is known. */
  attempt(provider: string, model: string | undefined): SpanHandle;
  /** Starts a tool call's span now. */
  tool(name: string): SpanHandle;
  /** Records an attempt after the fact (its span starts `event.ms` ago and ends now). */
  recordAttempt(event: AttemptSpanEvent): void;
  /** Records a finished tool call after the fact (its span starts `ms` ago and ends now). */
  recordTool(name: string, ms: number, ok: boolean, error?: string): void;
  /** Marks the first text sent to the client (an event on the turn span). */
  firstToken(): void;
  /** Adds attributes to the turn span (e.g. the answering provider). */
  set(attributes: TraceAttributes): void;
  /** Ends the turn; an error marks it failed. Only the first call counts. */
  end(outcome: string, error?: unknown): void;
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface Tracing {
  readonly enabled: boolean;
  /** Where spans are sent, when enabled. */
  readonly endpoint: string | undefined;
  readonly protocol: OtlpProtocol | undefined;
  /** Configuration problems worth a log line at startup (tracing may still be on). */
  readonly warnings: readonly string[];
  startTurn(attributes: TurnAttributes): TurnSpan;
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Flushes and stops the exporter; later spans are dropped. */
  shutdown(): Promise<void>;
}

export const DEFAULT_SERVICE_NAME = 'voice-llm-gateway';
const TRACER_NAME = 'voice-llm-gateway';

type Env = Record<string, string | undefined>;

/** Starts tracing per the standard OTEL_* variables, or returns the no-op implementation. */
export function startTracing(env: Env = process.env): Tracing {
  if (isTrue(env.OTEL_SDK_DISABLED) || (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase() === 'none') return NOOP_TRACING;
  const warnings: string[] = [];
  const endpoint = tracesEndpoint(env, warnings);
  if (endpoint === undefined) return warnings.length === 0 ? NOOP_TRACING : { ...NOOP_TRACING, warnings };

  const protocol = otlpProtocol(env, warnings);
  const headers = {
    ...parseKeyValues(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseKeyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  const exporterConfig: ExporterConfig = { url: endpoint, headers };
  const exporter = protocol === 'http/json' ? new OTLPTraceExporter(exporterConfig) : protobufExporter(exporterConfig);

  const resourceAttributes = parseKeyValues(env.OTEL_RESOURCE_ATTRIBUTES);
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || resourceAttributes['service.name'] || DEFAULT_SERVICE_NAME;
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ ...resourceAttributes, 'service.name': serviceName })),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer(TRACER_NAME);
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    endpoint,
    protocol,
    warnings,
    startTurn: (attributes) => new OtelTurnSpan(tracer, attributes),
    flush: () => stopped ?? provider.forceFlush(),
    shutdown: () => (stopped ??= provider.shutdown()),
  };
}

class OtelSpanHandle implements SpanHandle {
  readonly #span: Span;
  #ended = false;

  constructor(span: Span) {
    this.#span = span;
  }

  end(outcome?: string, error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    finish(this.#span, outcome, error);
  }
}

class OtelTurnSpan implements TurnSpan {
  readonly #tracer: Tracer;
  readonly #span: Span;
  readonly #context: Context;
  #ended = false;

  constructor(tracer: Tracer, attributes: TurnAttributes) {
    this.#tracer = tracer;
    const parent = attributes.traceparent === undefined ? ROOT_CONTEXT : remoteParent(attributes.traceparent);
    this.#span = tracer.startSpan(
      `turn ${attributes.agent}`,
      {
        kind: SpanKind.SERVER,
        attributes: defined({
          'vlg.agent': attributes.agent,
          'vlg.stream': attributes.stream,
          'vlg.turn.id': attributes.turnId,
          'vlg.call.instance_id': attributes.instanceId,
          'vlg.call.channel_id': attributes.channelId,
          'vlg.call.sentence_id': attributes.sentenceId,
        }),
      },
      parent,
    );
    this.#context = trace.setSpan(parent, this.#span);
  }

  get traceId(): string | undefined {
    return this.#span.spanContext().traceId;
  }

  attempt(provider: string, model: string | undefined): SpanHandle {
    return new OtelSpanHandle(this.#startAttempt(provider, model, undefined));
  }

  tool(name: string): SpanHandle {
    return new OtelSpanHandle(this.#startTool(name, undefined));
  }

  recordAttempt(event: AttemptSpanEvent): void {
    const now = performance.now();
    const span = this.#startAttempt(event.provider, event.model, now - Math.max(0, event.ms));
    finish(span, event.outcome, event.error, now);
  }

  recordTool(name: string, ms: number, ok: boolean, error?: string): void {
    const now = performance.now();
    const span = this.#startTool(name, now - Math.max(0, ms));
    finish(
      span,
      ok ? 'ok' : (error ?? 'error'),
      ok ? undefined : { code: error ?? 'error', message: `tool ${name} failed: ${error ?? 'error'}` },
      now,
    );
  }

  firstToken(): void {
    this.#span.addEvent('first_token');
  }

  set(attributes: TraceAttributes): void {
    this.#span.setAttributes(defined(attributes));
  }

  end(outcome: string, error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    finish(this.#span, outcome, error);
  }

  #startAttempt(provider: string, model: string | undefined, startTime: number | undefined): Span {
    return this.#tracer.startSpan(
      `chat ${model ?? provider}`,
      {
        kind: SpanKind.CLIENT,
        startTime,
        attributes: defined({
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': provider,
          'gen_ai.request.model': model,
          'vlg.provider': provider,
        }),
      },
      this.#context,
    );
  }

  #startTool(name: string, startTime: number | undefined): Span {
    return this.#tracer.startSpan(
      `execute_tool ${name}`,
      {
        kind: SpanKind.CLIENT,
        startTime,
        attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name },
      },
      this.#context,
    );
  }
}

/** Sets the outcome and, with an error, the failed status; then ends the span. */
function finish(span: Span, outcome: string | undefined, error: unknown, endTime?: number): void {
  if (outcome !== undefined) span.setAttribute('vlg.outcome', outcome);
  if (error !== undefined && error !== null) {
    const { type, message } = describeError(error);
    span.setAttribute('error.type', type);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
  span.end(endTime);
}

/** The error's code (GatewayError, Node system errors) or name, and its message. */
function describeError(error: unknown): { type: string; message: string } {
  if (typeof error === 'object' && error !== null) {
    const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
    return {
      type: typeof code === 'string' && code !== '' ? code : typeof name === 'string' && name !== '' ? name : 'error',
      message: typeof message === 'string' ? message : '',
    };
  }
  return { type: typeof error === 'string' ? error : 'error', message: String(error) };
}

function defined(attributes: TraceAttributes): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) out[key] = value;
  return out;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The W3C traceparent's span as a remote parent, or the root when the header is not valid. */
function remoteParent(header: string): Context {
  const match = TRACEPARENT.exec(header.trim().toLowerCase());
  if (match === null) return ROOT_CONTEXT;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return ROOT_CONTEXT;
  const spanContext = { traceId: traceId!, spanId: spanId!, traceFlags: Number.parseInt(flags!, 16) & 1, isRemote: true };
  return isSpanContextValid(spanContext) ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT;
}

function tracesEndpoint(env: Env, warnings: string[]): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  // The signal-specific URL is used as is; the general one gets the signal's path appended.
  const [name, url] = specific
    ? ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', specific]
    : general
      ? ['OTEL_EXPORTER_OTLP_ENDPOINT', `${general.replace(/\/+$/, '')}/v1/traces`]
      : [undefined, undefined];
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
    return parsed.toString();
  } catch {
    warnings.push(`${name} is not an http(s) URL; tracing is off.`);
    return undefined;
  }
}

function otlpProtocol(env: Env, warnings: string[]): OtlpProtocol {
  const raw = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'http/protobuf') return 'http/protobuf';
  if (raw === 'http/json') return 'http/json';
  warnings.push(`OTLP protocol "${raw}" is not supported (use http/protobuf or http/json); sending http/protobuf.`);
  return 'http/protobuf';
}

/** `key1=value1,key2=value2` (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS), percent-decoded. */
function parseKeyValues(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = decode(pair.slice(0, at).trim());
    const value = decode(pair.slice(at + 1).trim());
    if (key !== '') out[key] = value;
  }
  return out;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function isTrue(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;

/**
 * An OTLP/HTTP protobuf span exporter, built the way @opentelemetry/exporter-trace-otlp-proto
 * builds it, from the packages the installed OTLP/HTTP exporter itself depends on (resolved from
 * its location, so they need not be direct dependencies).
 */
function protobufExporter(config: ExporterConfig): SpanExporter {
  const require = createRequire(import.meta.resolve('@opentelemetry/exporter-trace-otlp-http'));
  const base = require('@opentelemetry/otlp-exporter-base') as {
    OTLPExporterBase: new (delegate: unknown) => SpanExporter;
  };
  const http = require('@opentelemetry/otlp-exporter-base/node-http') as {
    convertLegacyHttpOptions(config: ExporterConfig, signal: string, path: string, headers: Record<string, string>): unknown;
    createOtlpHttpExportDelegate(
      options: unknown,
      serializer: unknown,
      componentType: string,
      metricsHelper: unknown,
      meterProvider: undefined,
    ): unknown;
  };
  const transformer = require('@opentelemetry/otlp-transformer') as {
    ProtobufTraceSerializer: unknown;
    TraceExporterMetricsHelper: unknown;
  };
  const options = http.convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
  const delegate = http.createOtlpHttpExportDelegate(
    options,
    transformer.ProtobufTraceSerializer,
    'otlp_http_span_exporter',
    transformer.TraceExporterMetricsHelper,
    undefined,
  );
  return new base.OTLPExporterBase(delegate);
}

const NOOP_HANDLE: SpanHandle = { end() {} };

const NOOP_TURN: TurnSpan = {
  traceId: undefined,
  attempt: () => NOOP_HANDLE,
  tool: () => NOOP_HANDLE,
  recordAttempt() {},
  recordTool() {},
  firstToken() {},
  set() {},
  end() {},
};

const NOOP_TRACING: Tracing = {
  enabled: false,
  endpoint: undefined,
  protocol: undefined,
  warnings: [],
  startTurn: () => NOOP_TURN,
  flush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/** The tracing used when tracing is off (also handy in tests). */
export const noopTracing: Tracing = NOOP_TRACING;
