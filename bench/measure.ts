/**
 * The three measurements, each run by a separate load-generator process per path and round, with the
 * paths' order rotated every round so drift on a shared machine spreads over all of them.
 * @module
 */
import { join } from "node:path";
import type { LoadResult, LoadSpec } from "./load_client.ts";
import {
  allProcStats,
  type ProcessGroup,
  procStats,
  procTreeStats,
  rssOfPids,
  type Service,
  treeOf,
} from "./processes.ts";

import { HOST, type Proxy } from "./services.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** One way to reach the upstream: straight, or through a proxy (whose process we watch). */
export interface Path {
  name: string;
  url: string;
  caPem: string;
  proxyUrl?: string;
  proxy?: Service;
}

/** The path through a Recondo gateway to the Messages endpoint, named `name` (default: the proxy's name). */
export function proxiedPath(proxy: Proxy, name = proxy.name): Path {
  return {
    name,
    url: `https://${proxy.connectTo ?? HOST}/v1/messages`,
    caPem: proxy.caPem,
    proxyUrl: proxy.url,
    proxy: proxy.service,
  };
}

export interface Context {
  group: ProcessGroup;
  deno: string;
  upstream: Service;
}

/** Runs one load-generator process and returns its result (and, for throughput, process readings). */
async function runClient(
  context: Context,
  path: Path,
  spec: Omit<LoadSpec, "url" | "caPem" | "proxy">,
  onMeasuring?: (client: Service) => void,
): Promise<LoadResult> {
  const full: LoadSpec = { ...spec, url: path.url, caPem: path.caPem, proxy: path.proxyUrl };
  const client = context.group.spawn(`load-${spec.mode}-${path.name}`, context.deno, {
    cwd: ROOT,
    args: ["run", "--allow-all", join(ROOT, "bench", "load_client.ts"), JSON.stringify(full)],
  });
  try {
    let line = await client.nextJson(120_000) as LoadResult | { measuring: true };
    if ("measuring" in line) {
      onMeasuring?.(client);
      line = await client.nextJson(120_000) as LoadResult;
    }
    const status = await client.child.status;
    if (!status.success) throw new Error(`load client exited ${status.code}: ${client.stderrTail()}`);
    return line as LoadResult;
  } catch (error) {
    throw new Error(`${spec.mode} through ${path.name} failed: ${client.stderrTail()}`, { cause: error });
  } finally {
    await context.group.stop(client);
  }
}

function rotated<T>(items: T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Sequential requests on one warm connection: each request's full round trip in ms. */
export async function measureLatency(
  context: Context,
  paths: Path[],
  options: { rounds: number; count: number; warmup: number },
): Promise<Map<string, number[]>> {
  const samples = new Map(paths.map((p) => [p.name, [] as number[]]));
  for (let round = 0; round < options.rounds; round++) {
    for (const path of rotated(paths, round)) {
      const result = await runClient(context, path, {
        mode: "latency",
        count: options.count,
        warmup: options.warmup,
      });
      if (result.mode === "latency") samples.get(path.name)!.push(...result.ms);
    }
  }
  return samples;
}

export interface ThroughputResult {
  rounds: number[];
  completed: number;
  seconds: number;
  errors: number;
  firstError: string | null;
  loadRssKb: number;
  cpuMs: { proxy: number | null; upstream: number; client: number };
}

/**
 * `connections` clients looping for `durationMs`; samples the proxy's RSS and every process's CPU. The proxy
 * is read as a process tree (`procTreeStats`): squid's certificate helpers count as squid's.
 */
export async function measureThroughput(
  context: Context,
  paths: Path[],
  options: { rounds: number; connections: number; durationMs: number; warmup: number },
): Promise<Map<string, ThroughputResult>> {
  const results = new Map<string, ThroughputResult>(paths.map((p) => [p.name, {
    rounds: [],
    completed: 0,
    seconds: 0,
    errors: 0,
    firstError: null,
    loadRssKb: 0,
    cpuMs: { proxy: p.proxy ? 0 : null, upstream: 0, client: 0 },
  }]));
  for (let round = 0; round < options.rounds; round++) {
    for (const path of rotated(paths, round)) {
      const total = results.get(path.name)!;
      let before: { proxy: number; upstream: number } | null = null;
      let sampler: ReturnType<typeof setInterval> | undefined;
      // The proxy's process tree is listed once per window (a /proc scan takes ~2 ms); RSS polls only it.
      let tree: number[] = [];
      const sampleRss = () => {
        if (path.proxy) total.loadRssKb = Math.max(total.loadRssKb, rssOfPids(tree));
      };
      const result = await runClient(context, path, {
        mode: "throughput",
        connections: options.connections,
        durationMs: options.durationMs,
        warmup: options.warmup,
      }, () => {
        tree = path.proxy ? treeOf(allProcStats(), path.proxy.pid).pids : [];
        before = {
          proxy: path.proxy ? procTreeStats(path.proxy.pid).cpuMs : 0,
          upstream: procStats(context.upstream.pid).cpuMs,
        };
        sampler = setInterval(sampleRss, 100);
      });
      clearInterval(sampler);
      if (result.mode !== "throughput" || !before) {
        throw new Error(`throughput through ${path.name}: no window`);
      }
      const start = before as { proxy: number; upstream: number };
      sampleRss();
      total.rounds.push(result.completed / result.seconds);
      total.completed += result.completed;
      total.seconds += result.seconds;
      total.errors += result.errors;
      total.firstError ??= result.firstError;
      total.cpuMs.client += result.cpuMs;
      total.cpuMs.upstream += procStats(context.upstream.pid).cpuMs - start.upstream;
      if (path.proxy && total.cpuMs.proxy !== null) {
        total.cpuMs.proxy += procTreeStats(path.proxy.pid).cpuMs - start.proxy;
      }
    }
  }
  return results;
}

export interface SseResult {
  ttfbMs: number[];
  eventDelayMs: number[];
  eventsPerStream: number[];
}

/** Sequential SSE streams on one warm connection: first-byte time and each event's delay. */
export async function measureSse(
  context: Context,
  paths: Path[],
  options: { rounds: number; count: number },
): Promise<Map<string, SseResult>> {
  const results = new Map<string, SseResult>(
    paths.map((p) => [p.name, { ttfbMs: [], eventDelayMs: [], eventsPerStream: [] }]),
  );
  for (let round = 0; round < options.rounds; round++) {
    for (const path of rotated(paths, round)) {
      const result = await runClient(context, path, { mode: "sse", count: options.count, warmup: 1 });
      if (result.mode !== "sse") continue;
      const total = results.get(path.name)!;
      total.ttfbMs.push(...result.ttfbMs);
      total.eventDelayMs.push(...result.eventDelayMs);
      total.eventsPerStream.push(...result.eventsPerStream);
    }
  }
  return results;
}
