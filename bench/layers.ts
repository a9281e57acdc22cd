/**
 * Where a request's time goes on Recondo's intercept path, layer by layer, in one run: direct, then the
 * front door alone (`layer_server.ts static`), plus a plain streaming upstream leg on Deno's `fetch`
 * (`deno-fetch`), on Recondo's own upstream client (`upstream-client`) or on a bare HTTP/1.1 client over
 * `Deno.connectTls` or `node:tls` (`raw-tls`, `raw-nodetls`, bench/raw_h1_client.ts: the floor of an
 * upstream leg), the full gateway without
 * capture, and `recondo serve`; squid with ssl-bump (when installed) in the same run, so each layer's CPU per
 * request reads as a multiple of the compiled peer's.
 * Each step's extra latency and CPU per request is what that layer costs.
 *
 *   deno run -A --unstable-no-legacy-abort bench/layers.ts
 *
 * Prints a markdown table and writes it to BENCHMARKS.md ("Intercept path by layer").
 * @module
 */
import { join } from "node:path";
import { makeTestCertificate } from "../tests/fake_provider/tls.ts";
import { measureLatency, measureSse, measureThroughput, type Path, proxiedPath } from "./measure.ts";
import { ProcessGroup } from "./processes.ts";
import { writeSections } from "./benchmarks_md.ts";
import {
  ensureBenchPeers,
  HOST,
  type Proxy,
  realDenoBinary,
  startRecondo,
  startSquid,
  startUpstream,
} from "./services.ts";
import { fixed, percentile, signed, thousands } from "./stats.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function startLayer(
  group: ProcessGroup,
  deno: string,
  mode: string,
  env: Record<string, string>,
): Promise<Proxy> {
  const service = group.spawn(`layer ${mode}`, deno, {
    cwd: ROOT,
    args: ["run", "--allow-all", "--unstable-no-legacy-abort", join(ROOT, "bench", "layer_server.ts"), mode],
    env,
  });
  const line = await service.nextJson(30_000) as { proxy: string; ca: string };
  service.drainStdout();
  return { name: `front door + ${mode}`, url: line.proxy, caPem: line.ca, service };
}

async function main(): Promise<void> {
  const group = new ProcessGroup();
  const work = await Deno.makeTempDir({ prefix: "recondo-layers-" });
  try {
    const deno = await realDenoBinary();
    const material = makeTestCertificate(["127.0.0.1", HOST]);
    const files = { cert: join(work, "up.crt"), key: join(work, "up.key"), ca: join(work, "up-ca.crt") };
    await Deno.writeTextFile(files.cert, material.cert);
    await Deno.writeTextFile(files.key, material.key);
    await Deno.writeTextFile(files.ca, material.caCert);
    const upstream = await startUpstream(group, files);
    const layerEnv = (name: string) => ({
      RECONDO_DATA_DIR: join(work, name),
      BENCH_UPSTREAM: `https://127.0.0.1:${upstream.port}`,
      BENCH_UPSTREAM_CA: files.ca,
    });
    const common = { deno, upstreamPort: upstream.port, upstreamCaFile: files.ca, cpuProfileDir: null };
    const peers = await ensureBenchPeers();
    if (!peers.squid.ok) console.error(`layers: squid row skipped: ${peers.squid.reason}`);
    const squid = peers.squid.ok
      ? [
        await startSquid(group, {
          upstreamPort: upstream.port,
          upstreamCaFile: files.ca,
          stateDir: join(work, "squid"),
        }),
      ]
      : [];
    const proxies = await Promise.all([
      startLayer(group, deno, "static", layerEnv("static")),
      startLayer(group, deno, "raw-tls", layerEnv("raw-tls")),
      startLayer(group, deno, "raw-nodetls", layerEnv("raw-nodetls")),
      startLayer(group, deno, "deno-fetch", layerEnv("deno-fetch")),
      startLayer(group, deno, "upstream-client", layerEnv("upstream-client")),
      startRecondo(group, { ...common, variant: "proxy-only", dataDir: join(work, "proxy-only") }),
      startRecondo(group, { ...common, variant: "serve", dataDir: join(work, "serve") }),
    ]);
    const paths: Path[] = [
      { name: "direct", url: `https://127.0.0.1:${upstream.port}/v1/messages`, caPem: material.caCert },
      ...squid.map((p) => proxiedPath(p)),
      ...proxies.map((p) => proxiedPath(p)),
    ];
    const context = { group, deno, upstream: upstream.service };
    console.error("layers: latency…");
    const latency = await measureLatency(context, paths, { rounds: 2, count: 500, warmup: 200 });
    console.error("layers: throughput…");
    const throughput = await measureThroughput(context, paths, {
      rounds: 2,
      connections: 32,
      durationMs: 4000,
      warmup: 20,
    });
    console.error("layers: SSE…");
    const streaming = paths.filter((p) => !p.name.endsWith("static"));
    const sse = await measureSse(context, streaming, { rounds: 2, count: 4 });
    const directRate = (() => {
      const t = throughput.get("direct")!;
      return t.completed / t.seconds;
    })();
    const cpuPerRequest = (name: string): number | null => {
      const t = throughput.get(name);
      return t && t.cpuMs.proxy !== null ? t.cpuMs.proxy / t.completed : null;
    };
    const squidCpu = cpuPerRequest("squid");
    const lines = [
      `Measured ${
        new Date().toISOString().slice(0, 16).replace("T", " ")
      } UTC, one run, same upstream and client ` +
      "as above:",
      "",
      "| path | 1 conn p50 (ms) | added vs previous row | 32 conns req/s | vs direct | proxy CPU ms/request " +
      "| CPU vs squid | SSE first byte p50 (ms) | SSE event delay p50 (ms) |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ];
    let previous = Number.NaN;
    for (const path of paths) {
      const p50 = percentile(latency.get(path.name)!, 50);
      const t = throughput.get(path.name)!;
      const rate = t.completed / t.seconds;
      const cpuMs = cpuPerRequest(path.name);
      const cpu = cpuMs === null ? "—" : fixed(cpuMs, 3);
      const vsSquid = cpuMs === null || !squidCpu ? "—" : `${fixed(cpuMs / squidCpu, 2)}×`;
      const s = sse.get(path.name);
      lines.push(
        `| ${path.name} | ${fixed(p50, 3)} | ${Number.isNaN(previous) ? "—" : signed(p50 - previous, 3)} | ` +
          `${thousands(rate)} | ${fixed((rate / directRate) * 100, 0)}% | ${cpu} | ${vsSquid} | ` +
          `${s ? fixed(percentile(s.ttfbMs, 50), 3) : "—"} | ${
            s ? fixed(percentile(s.eventDelayMs, 50), 3) : "—"
          } |`,
      );
      if (path.name !== "squid") previous = p50; // the layer rows add to direct, not to squid
    }
    lines.push(
      "",
      "Run `deno run -A --unstable-no-legacy-abort bench/layers.ts`. After direct and squid (the compiled " +
        "peer, as in the gateway table), each row adds one layer to the one above " +
        "(the static row answers without the upstream, so its latency can be below direct's); the raw-tls, " +
        "raw-nodetls, deno-fetch and upstream-client rows are choices for the same upstream leg (raw-*: a bare " +
        "HTTP/1.1 client on `Deno.connectTls` or `node:tls`, bench/raw_h1_client.ts, the least that leg can " +
        "cost in Deno), and the gateway rows use Recondo's. CPU per request is the proxy process tree's user + system time over the 32-connection windows.",
    );
    const markdown = lines.join("\n");
    console.log(markdown);
    await writeSections({ "Intercept path by layer": markdown });
  } finally {
    await group.stopAll();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
