/**
 * Decodes OTLP/HTTP protobuf exports the way a collector does: with the official opentelemetry-proto
 * definitions (vendored in `tests/fixtures/otlp_proto/`, see its README) loaded by protobufjs. Spans and
 * histogram points come out as plain objects with attributes as `name → value`.
 * @module
 */
import protobuf from "protobufjs";

const PROTO_ROOT = new URL("../fixtures/otlp_proto/", import.meta.url).pathname;

/** A decoded span. */
export interface DecodedSpan {
  name: string;
  /** `SPAN_KIND_CLIENT`, … */
  kind: string;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  status: { code: string; message: string };
  resource: Record<string, unknown>;
}

/** One histogram data point of a named metric. */
export interface DecodedHistogramPoint {
  metric: string;
  unit: string;
  count: number;
  sum: number;
  attributes: Record<string, unknown>;
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value: AnyValue;
}

function valueOf(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  return null;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

let loaded: Promise<protobuf.Root> | undefined;

function root(): Promise<protobuf.Root> {
  loaded ??= (async () => {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => PROTO_ROOT + target;
    return await r.load([
      "opentelemetry/proto/collector/trace/v1/trace_service.proto",
      "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
    ]);
  })();
  return loaded;
}

const AS_OBJECT = { longs: String, enums: String, arrays: true, defaults: false } as const;

/** The spans of one `ExportTraceServiceRequest`. */
export async function decodeTraces(bytes: Uint8Array): Promise<DecodedSpan[]> {
  const type = (await root()).lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
  const request = type.toObject(type.decode(bytes), AS_OBJECT) as {
    resourceSpans: {
      resource?: { attributes?: KeyValue[] };
      scopeSpans: {
        spans: {
          name: string;
          kind?: string;
          startTimeUnixNano: string;
          endTimeUnixNano: string;
          attributes?: KeyValue[];
          status?: { code?: string; message?: string };
        }[];
      }[];
    }[];
  };
  return request.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((s) => ({
        name: s.name,
        kind: s.kind ?? "SPAN_KIND_UNSPECIFIED",
        startMs: Number(BigInt(s.startTimeUnixNano) / 1_000_000n),
        endMs: Number(BigInt(s.endTimeUnixNano) / 1_000_000n),
        attributes: attributesOf(s.attributes),
        status: { code: s.status?.code ?? "STATUS_CODE_UNSET", message: s.status?.message ?? "" },
        resource: attributesOf(rs.resource?.attributes),
      }))
    )
  );
}

/** The histogram points of one `ExportMetricsServiceRequest`. */
export async function decodeHistograms(bytes: Uint8Array): Promise<DecodedHistogramPoint[]> {
  const type = (await root()).lookupType(
    "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
  );
  const request = type.toObject(type.decode(bytes), AS_OBJECT) as {
    resourceMetrics: {
      scopeMetrics: {
        metrics: {
          name: string;
          unit?: string;
          histogram?: { dataPoints: { count: string; sum?: number; attributes?: KeyValue[] }[] };
        }[];
      }[];
    }[];
  };
  return request.resourceMetrics.flatMap((rm) =>
    rm.scopeMetrics.flatMap((sm) =>
      sm.metrics.flatMap((m) =>
        (m.histogram?.dataPoints ?? []).map((p) => ({
          metric: m.name,
          unit: m.unit ?? "",
          count: Number(p.count),
          sum: p.sum ?? 0,
          attributes: attributesOf(p.attributes),
        }))
      )
    )
  );
}

/** Decodes every dump file `otlp_dump.ts` wrote into `dir`, in arrival order. */
export async function decodeDumpDir(
  dir: string,
): Promise<{ spans: DecodedSpan[]; histograms: DecodedHistogramPoint[][] }> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  names.sort();
  const spans: DecodedSpan[] = [];
  const histograms: DecodedHistogramPoint[][] = [];
  for (const name of names) {
    const bytes = await Deno.readFile(`${dir}/${name}`);
    if (name.endsWith("-traces.pb")) spans.push(...await decodeTraces(bytes));
    else if (name.endsWith("-metrics.pb")) histograms.push(await decodeHistograms(bytes));
  }
  return { spans, histograms };
}
