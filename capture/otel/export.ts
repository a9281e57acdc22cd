/**
 * OpenTelemetry export, run by the capture worker once a record is written (`Pipeline.onWritten`), so the
 * proxy's thread never sees it. One span per exchange (a WebSocket turn is an exchange of its own) and the
 * GenAI client metrics, over OTLP/HTTP (protobuf) with the official SDK. The span queue is the SDK's
 * `BatchSpanProcessor`, bounded by `otel.maxQueueSize`: while the collector is down or slow, spans beyond it
 * are dropped, and those dropped or lost with a failed export are counted (the SDK's own
 * `otel.sdk.processor.span.processed` counter, read here) for `/metrics`. Capture never waits on any of it.
 * @example
 * const otel = await startOtelExport(config.otel); // null while otel.endpoint is absent
 * pipeline = createPipeline({ ..., onWritten: otel?.record });
 * @module
 */
import {
  createNoopMeter,
  type Meter,
  type MeterProvider,
  SpanKind,
  SpanStatusCode,
} from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider as SdkMeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, TraceIdRatioBasedSampler, TracerProvider } from "@opentelemetry/sdk-trace";
import {
  ATTR_ERROR_TYPE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from "@opentelemetry/semantic-conventions";
import {
  ATTR_GEN_AI_TOKEN_TYPE,
  GEN_AI_TOKEN_TYPE_VALUE_INPUT,
  GEN_AI_TOKEN_TYPE_VALUE_OUTPUT,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
} from "@opentelemetry/semantic-conventions/incubating";
import type { OtelConfig } from "../../config/schema.ts";
import { log } from "../../core/log.ts";
import { RECONDO_VERSION } from "../../core/version.ts";
import type { WrittenRecord } from "../persist_types.ts";
import { metricOf, spanOf } from "./attributes.ts";
import { exportHeaders } from "./headers.ts";

/** Export counters since this exporter started. */
export interface OtelStats {
  /** Spans the collector accepted. */
  exported: number;
  /** Spans dropped because the queue was full, or lost with an export that failed. */
  dropped: number;
}

/** A running export. */
export interface OtelExport {
  /** Turns a written record into a span and metric points; never blocks, never throws. */
  record(written: WrittenRecord): void;
  stats(): OtelStats;
  /** Sends what is queued (at most `timeoutMs`) and stops. */
  close(timeoutMs?: number): Promise<void>;
}

/** Bucket boundaries the GenAI spec advises for `gen_ai.client.token.usage`. */
const TOKEN_BUCKETS = [
  1,
  4,
  16,
  64,
  256,
  1024,
  4096,
  16384,
  65536,
  262144,
  1048576,
  4194304,
  16777216,
  67108864,
];
/** Bucket boundaries the GenAI spec advises for `gen_ai.client.operation.duration` (seconds). */
const DURATION_BUCKETS = [
  0.01,
  0.02,
  0.04,
  0.08,
  0.16,
  0.32,
  0.64,
  1.28,
  2.56,
  5.12,
  10.24,
  20.48,
  40.96,
  81.92,
];
/**
 * Longest attribute value kept (prompts with `capturePrompts`): with the queue bound it caps the memory a
 * collector outage can hold (2,048 spans × a few values of 32 KiB).
 */
const MAX_ATTRIBUTE_CHARS = 32 * 1024;
/** One export request's time limit; a hung collector costs at most this per batch. */
const EXPORT_TIMEOUT_MS = 10_000;

/**
 * A meter provider for the SDK's self-observability that only tallies the span processor's outcome
 * counter: successful exports, queue-full drops and failed exports (`error.type` set).
 */
function spanOutcomes(stats: OtelStats): MeterProvider {
  const noop = createNoopMeter();
  const meter: Meter = Object.create(noop);
  meter.createCounter = (name, options) => {
    const counter = noop.createCounter(name, options);
    if (name !== "otel.sdk.processor.span.processed") return counter;
    return Object.assign(Object.create(counter), {
      add(count: number, attributes?: Record<string, unknown>) {
        if (attributes?.[ATTR_ERROR_TYPE]) stats.dropped += count;
        else stats.exported += count;
      },
    });
  };
  return { getMeter: () => meter };
}

/** Starts the export, or returns `null` when `otel.endpoint` is not set. */
export async function startOtelExport(config: OtelConfig): Promise<OtelExport | null> {
  if (!config.endpoint) return null;
  const base = config.endpoint.replace(/\/+$/, "");
  const headers = await exportHeaders(config);
  const stats: OtelStats = { exported: 0, dropped: 0 };
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: "recondo",
    [ATTR_SERVICE_VERSION]: RECONDO_VERSION,
  });
  const processor = new BatchSpanProcessor({
    exporter: new OTLPTraceExporter({ url: `${base}/v1/traces`, headers, timeoutMillis: EXPORT_TIMEOUT_MS }),
    maxQueueSize: config.maxQueueSize,
    maxExportBatchSize: Math.min(512, config.maxQueueSize),
    scheduledDelayMillis: config.exportIntervalMs,
    exportTimeoutMillis: EXPORT_TIMEOUT_MS,
    selfObsMeterProvider: spanOutcomes(stats),
  });
  const tracerProvider = new TracerProvider({
    resource,
    sampler: new TraceIdRatioBasedSampler(config.sampling),
    spanLimits: { attributeValueLengthLimit: MAX_ATTRIBUTE_CHARS },
    spanProcessors: [processor],
  });
  const meterProvider = new SdkMeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          url: `${base}/v1/metrics`,
          headers,
          timeoutMillis: EXPORT_TIMEOUT_MS,
        }),
        exportIntervalMillis: config.exportIntervalMs,
        exportTimeoutMillis: Math.min(EXPORT_TIMEOUT_MS, config.exportIntervalMs),
      }),
    ],
  });
  const tracer = tracerProvider.getTracer("recondo", RECONDO_VERSION);
  const meter = meterProvider.getMeter("recondo", RECONDO_VERSION);
  const tokenUsage = meter.createHistogram(METRIC_GEN_AI_CLIENT_TOKEN_USAGE, {
    description: "Tokens used per model call, by token type",
    unit: "{token}",
    advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
  });
  const duration = meter.createHistogram(METRIC_GEN_AI_CLIENT_OPERATION_DURATION, {
    description: "Duration of model calls as seen by the gateway",
    unit: "s",
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  log.info("otel.export_started", {
    endpoint: base,
    sampling: config.sampling,
    prompts: config.capturePrompts,
  });

  function record(written: WrittenRecord): void {
    try {
      const spec = spanOf(written, { capturePrompts: config.capturePrompts });
      const span = tracer.startSpan(spec.name, {
        kind: SpanKind.CLIENT,
        startTime: spec.start,
        attributes: spec.attributes,
      });
      if (spec.errorType) span.setStatus({ code: SpanStatusCode.ERROR, message: spec.errorType });
      span.end(spec.end);
      const point = metricOf(written);
      if (!point) return;
      duration.record(
        point.durationSeconds,
        point.errorType ? { ...point.attributes, [ATTR_ERROR_TYPE]: point.errorType } : point.attributes,
      );
      if (point.tokens) {
        tokenUsage.record(point.tokens.input, {
          ...point.attributes,
          [ATTR_GEN_AI_TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_VALUE_INPUT,
        });
        tokenUsage.record(point.tokens.output, {
          ...point.attributes,
          [ATTR_GEN_AI_TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_VALUE_OUTPUT,
        });
      }
    } catch (error) {
      log.error("otel.record_failed", { exchangeId: written.exchangeId, error });
    }
  }

  async function close(timeoutMs = EXPORT_TIMEOUT_MS): Promise<void> {
    // A collector that is down must not hold shutdown: whatever is not sent by then is given up.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
    try {
      await Promise.race([
        Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]),
        limit,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  return { record, stats: () => ({ ...stats }), close };
}
