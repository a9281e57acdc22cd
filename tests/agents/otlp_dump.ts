/**
 * A stand-in OpenTelemetry collector for runs inside the network namespace: it answers OTLP/HTTP exports
 * on `127.0.0.1:4318` (the OTLP/HTTP port; the namespace is fresh, so it is free) and writes each request
 * body as it arrived (`<n>-traces.pb`, `<n>-metrics.pb`) into a directory, for the test outside the
 * namespace to decode with the official protobuf definitions (`tests/support/otlp.ts`).
 * @module
 */
import { join } from "node:path";

/** The port the dump listens on, and so what `otel.endpoint` must name in the gateway's config. */
export const OTLP_DUMP_PORT = 4318;

/** Starts the dump; `close()` stops it once the gateway has flushed on shutdown. */
export function startOtlpDump(dir: string): { close(): Promise<void> } {
  let seq = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: OTLP_DUMP_PORT, onListen() {} }, async (req) => {
    const signal = new URL(req.url).pathname.match(/^\/v1\/(traces|metrics|logs)$/)?.[1];
    if (req.method !== "POST" || !signal) return new Response("not an OTLP export", { status: 404 });
    const body = new Uint8Array(await req.arrayBuffer());
    await Deno.writeFile(join(dir, `${String(++seq).padStart(5, "0")}-${signal}.pb`), body);
    // An empty Export*ServiceResponse: full success.
    return new Response(new Uint8Array(), { headers: { "content-type": "application/x-protobuf" } });
  });
  return { close: () => server.shutdown() };
}
