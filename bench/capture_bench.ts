/**
 * Capture under load (issue #4 §8): the real gateway (`main.ts serve`) at full speed with SQLite and with
 * PostgreSQL, between two runs of the same gateway with capture off, in one run. For each: the proxy's
 * req/s, how fast records reached the database while the load ran, how long the backlog took to drain after
 * it, and whether every request the upstream answered became exactly one exchange row. Everything is read
 * through the process's public surface (`/metrics`, the database), so it holds wherever capture runs inside.
 * Then `recondo verify --all` against `sha256sum` (bench/capture_verify.ts).
 *
 * `deno task bench:capture` runs it alone and rewrites the "Capture" section of BENCHMARKS.md;
 * `deno task bench` runs it after the gateway benchmark.
 * @module
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { postgresAvailable, startPostgres, type TestPostgres } from "../tests/support/postgres.ts";
import { openPostgres } from "../storage/db/postgres.ts";
import { measureThroughput, type Path, proxiedPath } from "./measure.ts";
import { cpuAccount, ProcessGroup, procStats, waitForQuietMachine, waitUntil } from "./processes.ts";
import { realDenoBinary, startRecondo, startUpstream, writeUpstreamCertificate } from "./services.ts";
import { renderVerify, verifyVersusSha256sum } from "./capture_verify.ts";
import { renderLoad, type Store, type VariantResult } from "./capture_report.ts";
import { fixed } from "./stats.ts";

const LOAD = { rounds: 1, connections: 32, durationMs: 8000, warmup: 20 };
const DRAIN_TIMEOUT_MS = 300_000;

interface Variant {
  name: string;
  store: Store | null;
  env: Record<string, string>;
}

interface Context {
  group: ProcessGroup;
  deno: string;
  work: string;
  upstream: Awaited<ReturnType<typeof startUpstream>>;
  upstreamCaFile: string;
  upstreamCount: () => Promise<number>;
  dbUrl: string | null;
}

async function metricsOf(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(recondo_capture_\w+) (\S+)$/.exec(line);
    if (match) out.set(match[1], Number(match[2]));
  }
  if (!out.has("recondo_capture_written") || !out.has("recondo_capture_queued")) {
    throw new Error(`${url}/metrics lacks recondo_capture_written or recondo_capture_queued`);
  }
  return out;
}

async function countRows(store: Store, dataDir: string, dbUrl: string | null): Promise<number> {
  if (store === "sqlite") {
    const db = new DatabaseSync(join(dataDir, "recondo.db"), { readOnly: true });
    try {
      return Number((db.prepare("SELECT COUNT(*) AS n FROM exchanges").get() as { n: number }).n);
    } finally {
      db.close();
    }
  }
  const db = openPostgres(dbUrl!);
  try {
    const [row] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM exchanges");
    return Number(row.n);
  } finally {
    await db.close();
  }
}

/** One gateway: start it, load it for LOAD.durationMs, wait for its capture backlog to drain, count rows. */
async function runVariant(ctx: Context, variant: Variant, index: number): Promise<VariantResult> {
  console.error(`bench: capture, ${variant.name}…`);
  const dataDir = join(ctx.work, `capture-${index}`);
  const proxy = await startRecondo(ctx.group, {
    deno: ctx.deno,
    variant: variant.store ? "serve" : "proxy-only",
    upstreamPort: ctx.upstream.port,
    upstreamCaFile: ctx.upstreamCaFile,
    dataDir,
    cpuProfileDir: null,
    env: variant.env,
  });
  try {
    const path: Path = proxiedPath(proxy, variant.name);
    const countBefore = await ctx.upstreamCount();
    const writtenBefore = variant.store ? (await metricsOf(proxy.url)).get("recondo_capture_written")! : 0;
    let peakQueued = 0;
    let spilled = 0;
    const sampler = variant.store
      ? setInterval(async () => {
        const m = await metricsOf(proxy.url).catch(() => null);
        peakQueued = Math.max(peakQueued, m?.get("recondo_capture_queued") ?? 0);
        spilled = Math.max(spilled, m?.get("recondo_capture_spilled") ?? 0);
      }, 250)
      : undefined;
    const cpuBefore = procStats(proxy.service.pid).cpuMs;
    const loadStart = performance.now();
    const throughput = (await measureThroughput(
      { group: ctx.group, deno: ctx.deno, upstream: ctx.upstream.service },
      [path],
      LOAD,
    )).get(variant.name)!;
    const loadSeconds = (performance.now() - loadStart) / 1000;
    clearInterval(sampler);
    const upstreamRequests = (await ctx.upstreamCount()) - countBefore;
    const base = {
      name: variant.name,
      store: variant.store,
      reqPerSec: throughput.completed / throughput.seconds,
      clientErrors: throughput.errors,
      upstreamRequests,
      loadSeconds,
    };
    const cpuMsPerRequest = () => (procStats(proxy.service.pid).cpuMs - cpuBefore) / upstreamRequests;
    if (!variant.store) {
      return {
        ...base,
        cpuMsPerRequest: cpuMsPerRequest(),
        writtenDuringLoad: null,
        drainSeconds: null,
        rows: null,
        failed: null,
        peakQueued: null,
        spilled: null,
      };
    }
    const writtenDuringLoad = (await metricsOf(proxy.url)).get("recondo_capture_written")! - writtenBefore;
    const drainStart = performance.now();
    let last = new Map<string, number>();
    await waitUntil(
      async () => {
        last = await metricsOf(proxy.url);
        const settled = last.get("recondo_capture_written")! - writtenBefore +
          (last.get("recondo_capture_failed") ?? 0);
        return last.get("recondo_capture_queued") === 0 && settled >= upstreamRequests;
      },
      DRAIN_TIMEOUT_MS,
      () =>
        `${variant.name}: the capture backlog did not drain within ${DRAIN_TIMEOUT_MS / 1000} s ` +
        `(last /metrics: ${JSON.stringify(Object.fromEntries(last))}, ${upstreamRequests} requests)`,
    );
    const drainSeconds = (performance.now() - drainStart) / 1000;
    return {
      ...base,
      cpuMsPerRequest: cpuMsPerRequest(),
      writtenDuringLoad,
      drainSeconds,
      rows: await countRows(variant.store, dataDir, ctx.dbUrl),
      failed: last.get("recondo_capture_failed") ?? 0,
      peakQueued,
      spilled,
    };
  } finally {
    await ctx.group.stop(proxy.service);
  }
}

async function machineLine(): Promise<string> {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(await Deno.readTextFile("/proc/cpuinfo"))?.[1] ?? "unknown CPU";
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  return `${navigator.hardwareConcurrency} × ${cpu.trim()} (load average before the run ${load})`;
}

/** Runs the whole capture benchmark and returns its markdown section. */
export async function captureBench(group: ProcessGroup, work: string): Promise<string> {
  const machine = await machineLine();
  const othersBefore = await waitForQuietMachine(0.2, 20_000);
  const cpuAtStart = cpuAccount();
  const deno = await realDenoBinary();
  const { caPem: upstreamCaPem, files } = await writeUpstreamCertificate(work, "cap-up");
  const upstream = await startUpstream(group, files);
  const upstreamClient = Deno.createHttpClient({ caCerts: [upstreamCaPem] });
  const upstreamCount = async () =>
    (await (await fetch(`https://127.0.0.1:${upstream.port}/__count`, { client: upstreamClient })).json())
      .requests as number;
  let postgres: TestPostgres | null = null;
  const notes: string[] = [];
  try {
    if (postgresAvailable()) postgres = await startPostgres();
    else notes.push("PostgreSQL row skipped: no PostgreSQL 15 binaries on this machine.");
    const dbUrl = postgres ? await postgres.createDatabase() : null;
    // Capture off first and last, so drift on the shared machine shows and the ratio uses their mean.
    const variants: Variant[] = [
      { name: "capture off (first)", store: null, env: {} },
      { name: "SQLite", store: "sqlite", env: { RECONDO_STORE: "sqlite" } },
      ...(dbUrl
        ? [{
          name: "PostgreSQL",
          store: "postgres" as const,
          env: { RECONDO_STORE: "postgres", RECONDO_DB_URL: dbUrl },
        }]
        : []),
      { name: "capture off (last)", store: null, env: {} },
    ];
    const ctx: Context = { group, deno, work, upstream, upstreamCaFile: files.ca, upstreamCount, dbUrl };
    const results: VariantResult[] = [];
    for (const [i, variant] of variants.entries()) results.push(await runVariant(ctx, variant, i));
    console.error("bench: verify vs sha256sum…");
    const verify = await verifyVersusSha256sum(deno, join(work, "verify"));
    const cpuAtEnd = cpuAccount();
    const others =
      (cpuAtEnd.machineBusyMs - cpuAtStart.machineBusyMs - (cpuAtEnd.oursMs - cpuAtStart.oursMs)) /
      Math.max(1, cpuAtEnd.machineTotalMs - cpuAtStart.machineTotalMs);
    const header = `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${machine}; ` +
      `other processes used ${fixed(othersBefore * 100, 0)}% of the CPU just before the run and ` +
      `${fixed(Math.max(0, others) * 100, 0)}% during it. One run; ${LOAD.connections} connections for ` +
      `${LOAD.durationMs / 1000} s per gateway, same upstream as "Gateway overhead".`;
    return [header, "", ...renderLoad(results), "", ...renderVerify(verify), ...notes.map((n) => `- ${n}`)]
      .join("\n");
  } finally {
    upstreamClient.close();
    await group.stop(upstream.service);
    await postgres?.[Symbol.asyncDispose]();
  }
}

async function main(): Promise<number> {
  const { writeSections } = await import("./benchmarks_md.ts");
  const group = new ProcessGroup();
  const work = await Deno.makeTempDir({ prefix: "recondo-capture-bench-" });
  try {
    const markdown = await captureBench(group, work);
    console.log(`## Capture\n\n${markdown}\n`);
    console.error(`bench: wrote ${await writeSections({ Capture: markdown })}`);
    return 0;
  } finally {
    await group.stopAll();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
