/**
 * One soak run: a Node SSE upstream, a real `main.ts serve` (capture on, SQLite) and one load process
 * holding `streams` SSE streams open through it for `minutes`. Samples the gateway's RSS and open file
 * descriptors every second from /proc: idle (after a warm-up), peak from the streams' start to the end of the
 * settle time (the streams' end and the capture of a thousand bodies at once are what they cost too), and
 * one minute after they end; then checks in the database that every stream was recorded exactly once.
 * Used by `deno task soak` (bench/soak.ts) and by tests/soak_test.ts.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ProcessGroup, procStats, withTimeout } from "./processes.ts";
import { HOST, realDenoBinary, startRecondo, startUpstream, writeUpstreamCertificate } from "./services.ts";
import type { SoakClientResult, SoakClientSpec } from "./soak_client.ts";

export interface SoakOptions {
  streams: number;
  /** How long each stream stays open. */
  minutes: number;
  /** Upstream's gap between two events of a stream. */
  eventIntervalMs: number;
  /** How long after the streams end RSS and fds are read again ("after"). */
  settleMs?: number;
  /** More environment for the gateway (e.g. `MALLOC_ARENA_MAX`). */
  gatewayEnv?: Record<string, string>;
  /** A debug wrapper instead of `main.ts serve` (see services.ts). */
  gatewayEntry?: string[];
  /** Progress lines go here (stderr by default). */
  progress?: (line: string) => void;
}

export interface Sample {
  /** Seconds since the streams were started. */
  t: number;
  rssKb: number;
  fds: number;
}

export interface SoakResult {
  streams: number;
  minutes: number;
  eventIntervalMs: number;
  loadBefore: string;
  loadAfter: string;
  idle: { rssKb: number; fds: number };
  peak: { rssKb: number; fds: number };
  after: { rssKb: number; fds: number; seconds: number };
  /** (peak RSS − idle RSS) / streams. */
  perStreamKb: number;
  client: SoakClientResult;
  upstreamRequests: number;
  /** Rows in `exchanges` carrying this run's stream tag, and how many distinct tags among them. */
  recorded: { rows: number; distinct: number; complete: number };
  samples: Sample[];
  gatewayCpuMs: number;
}

/**
 * The allocator settings `deno task serve`, the container image and the systemd unit run with (fixed glibc
 * trim and mmap thresholds instead of dynamic ones). Measured, 1,000 streams × 1 min: peak RSS 661 → 459 MB,
 * RSS a minute after 559 → 343 MB; `MALLOC_ARENA_MAX=2` alone moved neither.
 */
export const SERVE_MALLOC_ENV = { MALLOC_TRIM_THRESHOLD_: "131072", MALLOC_MMAP_THRESHOLD_: "65536" };

export function fdCount(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const say = options.progress ?? ((line: string) => console.error(`soak: ${line}`));
  const settleMs = options.settleMs ?? 60_000;
  const group = new ProcessGroup();
  const work = await Deno.makeTempDir({ prefix: "recondo-soak-" });
  try {
    const deno = await realDenoBinary();
    const { files } = await writeUpstreamCertificate(work, "upstream");
    const events = Math.max(5, Math.round((options.minutes * 60_000) / options.eventIntervalMs));
    const upstream = await startUpstream(group, files, {
      BENCH_SSE_EVENTS: String(events),
      BENCH_SSE_INTERVAL_MS: String(options.eventIntervalMs),
    });
    const dataDir = join(work, "recondo");
    const recondo = await startRecondo(group, {
      deno,
      variant: "serve",
      upstreamPort: upstream.port,
      upstreamCaFile: files.ca,
      dataDir,
      cpuProfileDir: null,
      env: { ...SERVE_MALLOC_ENV, ...options.gatewayEnv },
      entry: options.gatewayEntry,
    });
    const pid = recondo.service.pid;
    const base: Omit<SoakClientSpec, "streams" | "run" | "rampMs"> = {
      url: `https://${HOST}/v1/messages`,
      proxy: recondo.url,
      caPem: recondo.caPem,
    };
    // Warm-up: 20 streams cut after 3 s, so "idle" is a gateway that has served (JIT, pools, caches), not
    // a fresh one. Their exchanges carry another tag and are not counted.
    say("warm-up…");
    await clientRun(group, deno, { ...base, streams: 20, run: "warmup", rampMs: 0 }, { cutAfterMs: 3000 });
    await sleep(5000);
    const idle = { rssKb: procStats(pid).rssKb, fds: fdCount(pid) };
    const loadBefore = loadAverage();
    const cpuBefore = procStats(pid).cpuMs;
    say(`idle RSS ${(idle.rssKb / 1024).toFixed(0)} MB, ${idle.fds} fds; load ${loadBefore}`);

    const samples: Sample[] = [];
    const started = performance.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        if (recondo.service.exitCode() !== null) {
          throw new Error(
            `the gateway exited with code ${recondo.service.exitCode()} during the soak: ` +
              recondo.service.stderrTail(),
          );
        }
        samples.push({
          t: (performance.now() - started) / 1000,
          rssKb: procStats(pid).rssKb,
          fds: fdCount(pid),
        });
        await sleep(1000);
      }
    })();
    say(`${options.streams} streams × ${options.minutes} min, an event every ${options.eventIntervalMs} ms…`);
    const run = `soak${Date.now()}`;
    const client = await clientRun(group, deno, {
      ...base,
      streams: options.streams,
      run,
      // Opened over at most a quarter of a stream's life, so all of them are open together.
      rampMs: Math.min(5_000, options.streams * 2, (options.minutes * 60_000) / 4),
    }, { timeoutMs: options.minutes * 60_000 + 120_000 });
    say(
      `streams ended: ${client.completed} completed, ${client.failed} failed; settling ${settleMs / 1000} s…`,
    );
    await sleep(settleMs);
    sampling = false;
    await sampler;
    const after = { rssKb: procStats(pid).rssKb, fds: fdCount(pid), seconds: settleMs / 1000 };
    const gatewayCpuMs = procStats(pid).cpuMs - cpuBefore;
    // Not only while the streams are open: when a thousand end together, capture takes in their bodies in
    // the seconds after the load client has its last byte (measured: +19 MB four seconds later).
    const peak = {
      rssKb: Math.max(...samples.map((s) => s.rssKb)),
      fds: Math.max(...samples.map((s) => s.fds)),
    };
    const upstreamRequests = await countUpstream(upstream.port, files.ca);
    await group.stop(recondo.service);
    const recorded = countRecorded(dataDir, run);
    return {
      streams: options.streams,
      minutes: options.minutes,
      eventIntervalMs: options.eventIntervalMs,
      loadBefore,
      loadAfter: loadAverage(),
      idle,
      peak,
      after,
      perStreamKb: (peak.rssKb - idle.rssKb) / options.streams,
      client,
      upstreamRequests,
      recorded,
      samples,
      gatewayCpuMs,
    };
  } finally {
    await group.stopAll();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

async function clientRun(
  group: ProcessGroup,
  deno: string,
  spec: SoakClientSpec,
  limits: { timeoutMs?: number; cutAfterMs?: number },
): Promise<SoakClientResult> {
  const service = group.spawn("soak client", deno, {
    args: [
      "run",
      "--allow-all",
      join(new URL(".", import.meta.url).pathname, "soak_client.ts"),
      JSON.stringify(spec),
    ],
  });
  if (limits.cutAfterMs !== undefined) {
    await sleep(limits.cutAfterMs);
    await group.stop(service);
    return null as unknown as SoakClientResult;
  }
  const timeout = limits.timeoutMs ?? 600_000;
  while (true) {
    const line = await withTimeout(
      service.nextJson(timeout),
      timeout,
      () => `soak client gave no result; stderr: ${service.stderrTail()}`,
    ) as Partial<SoakClientResult> & { open?: number };
    if (line.open === undefined) return line as SoakClientResult;
  }
}

async function countUpstream(port: number, caFile: string): Promise<number> {
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] });
  try {
    const response = await fetch(`https://127.0.0.1:${port}/__count`, { client });
    return ((await response.json()) as { requests: number }).requests;
  } finally {
    client.close();
  }
}

/** Exchanges whose request carried this run's `x-soak-stream` tag; `complete`: answered 200 in full. */
function countRecorded(dataDir: string, run: string): SoakResult["recorded"] {
  // An entry that records nothing (bench/soak_floor.ts) has no database: nothing recorded.
  if (!existsSync(join(dataDir, "recondo.db"))) return { rows: 0, distinct: 0, complete: 0 };
  const db = new DatabaseSync(join(dataDir, "recondo.db"), { readOnly: true });
  try {
    // The tag is in the row's own headers, or in the header set it builds on (capture/header_sets.ts).
    const path = "'$.\"x-soak-stream\"'";
    const tag = `COALESCE(json_extract(e.request_headers, ${path}), json_extract(h.headers, ${path}))`;
    const row = db.prepare(
      `SELECT COUNT(*) AS rows, COUNT(DISTINCT ${tag}) AS distinct_tags,
              SUM(e.status = 200 AND e.outcome = 'complete') AS complete
       FROM exchanges e LEFT JOIN header_sets h ON h.id = e.request_headers_base WHERE ${tag} LIKE ?`,
    ).get(`${run}-%`) as { rows: number; distinct_tags: number; complete: number | null };
    return {
      rows: Number(row.rows),
      distinct: Number(row.distinct_tags),
      complete: Number(row.complete ?? 0),
    };
  } finally {
    db.close();
  }
}
