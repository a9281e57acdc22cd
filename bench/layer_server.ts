/**
 * Recondo's intercept path cut off at one layer, for `bench/layers.ts`: the real front door (CONNECT,
 * node:tls termination with the real leaf cache, the pipe into a loopback `Deno.serve`), behind which the
 * inner handler does only part of the work:
 * - `static`: answers a fixed 2 KB JSON without any upstream (front door + TLS + pipe + inner server);
 * - `deno-fetch`: forwards with Deno's `fetch` and streams the body back (`new Response(upstream.body)`),
 *   the design measured in PLATFORM.md;
 * - `upstream-client`: the same with Recondo's own upstream client (proxy/upstream_client.ts), so this
 *   row follows whatever the gateway uses for its upstream leg;
 * - `raw-tls`, `raw-nodetls`: the same over a bare HTTP/1.1 client (bench/raw_h1_client.ts) on
 *   `Deno.connectTls` or on `node:tls`: what the upstream leg costs without `fetch`'s or `node:https`'s JS
 *   layers, the floor any upstream client in Deno stands on.
 *
 *   deno run -A bench/layer_server.ts MODE  (env RECONDO_DATA_DIR, BENCH_UPSTREAM origin, BENCH_UPSTREAM_CA file)
 *
 * Prints `{"proxy":URL,"ca":PEM}` once listening; stops on SIGTERM/SIGINT.
 * @module
 */
import { dataPaths } from "../config/paths.ts";
import { ConnectionRegistry } from "../proxy/connection_registry.ts";
import { startFrontDoor } from "../proxy/front_door.ts";
import { clientResponseHeaders, upstreamRequestHeaders } from "../proxy/headers.ts";
import { createMetrics } from "../proxy/metrics.ts";
import { createUpstreamClient } from "../proxy/upstream_client.ts";
import { loadOrCreateCa } from "../proxy/tls/ca.ts";
import { createLeafCache } from "../proxy/tls/leaf_cache.ts";
import { rawH1Client } from "./raw_h1_client.ts";

const HOST = "api.anthropic.com";
const MODES = ["static", "deno-fetch", "upstream-client", "raw-tls", "raw-nodetls"] as const;
type Mode = typeof MODES[number];

function env(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`layer_server: ${name} is not set`);
  return value;
}

async function handlerFor(mode: Mode): Promise<(req: Request) => Promise<Response>> {
  const staticBody = new TextEncoder().encode(JSON.stringify({ text: "x".repeat(2000) }));
  if (mode === "static") {
    return async (req: Request) => {
      await req.body?.cancel();
      return new Response(staticBody, { headers: { "content-type": "application/json" } });
    };
  }
  const origin = env("BENCH_UPSTREAM");
  const caFile = env("BENCH_UPSTREAM_CA");
  if (mode === "raw-tls" || mode === "raw-nodetls") {
    const send = rawH1Client(origin, [Deno.readTextFileSync(caFile)], mode === "raw-tls" ? "deno" : "node");
    return async (req) => {
      const url = new URL(req.url);
      const body = req.body ? new Uint8Array(await req.arrayBuffer()) : null;
      const upstream = await send(
        req.method,
        url.pathname + url.search,
        upstreamRequestHeaders(req.headers, HOST),
        body,
      );
      return new Response(upstream.body, {
        status: upstream.status,
        headers: clientResponseHeaders(upstream.headers),
      });
    };
  }
  const forward = mode === "deno-fetch" ? denoFetch(caFile) : await recondoClient(caFile);
  return async (req) => {
    const url = new URL(req.url);
    const upstream = await forward(origin + url.pathname + url.search, req);
    return new Response(upstream.body, {
      status: upstream.status,
      headers: clientResponseHeaders(upstream.headers),
    });
  };
}

type Forward = (url: string, req: Request) => Promise<Response>;

function denoFetch(caFile: string): Forward {
  const client = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(caFile)], allowHost: true });
  return (url, req) =>
    fetch(url, {
      method: req.method,
      headers: upstreamRequestHeaders(req.headers, HOST),
      body: req.body,
      client,
      redirect: "manual",
    });
}

async function recondoClient(caFile: string): Promise<Forward> {
  const client = await createUpstreamClient({ extraCaFiles: [caFile] });
  return (url, req) =>
    client.fetch(url, {
      method: req.method,
      headers: upstreamRequestHeaders(req.headers, HOST),
      body: req.body,
      signal: req.signal,
    });
}

if (import.meta.main) {
  const mode = Deno.args[0] as Mode;
  if (!MODES.includes(mode)) {
    throw new Error(`layer_server: mode must be one of ${MODES.join(", ")}, got "${mode}"`);
  }
  const paths = dataPaths(env("RECONDO_DATA_DIR"));
  await Deno.mkdir(paths.dir, { recursive: true });
  const ca = await loadOrCreateCa(paths, { domains: [HOST] });
  const leaves = createLeafCache(ca);
  const inner = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, await handlerFor(mode));
  const front = await startFrontDoor("127.0.0.1", 0, {
    settings: () => ({
      isIntercepted: (host) => host === HOST,
      otherHosts: "refuse",
      developers: [],
      requireProxyAuth: false,
      maxHeaderBytes: 65536,
      headerTimeoutMs: 10_000,
    }),
    registry: new ConnectionRegistry(),
    innerPort: inner.addr.port,
    metrics: createMetrics(),
    tlsFor: (host) => ({ SNICallback: leaves.sniCallbackFor(host) }),
  });
  console.log(JSON.stringify({ proxy: `http://127.0.0.1:${front.port}`, ca: ca.certPem }));
  await new Promise<void>((resolve) => {
    Deno.addSignalListener("SIGINT", resolve);
    Deno.addSignalListener("SIGTERM", resolve);
  });
  await front.close();
  await inner.shutdown();
  Deno.exit(0);
}
