/**
 * Capture under load (issue #4 §8): the real gateway (`main.ts serve`) at full speed with SQLite and with
 * PostgreSQL, next to the same gateway with capture off, in one run. For each: the proxy's req/s, how fast
 * records reached the database while the load ran, how long the backlog took to drain after it, and
 * whether every request the upstream answered became exactly one exchange row. Then `recondo verify --all`
 * over a seeded store against `sha256sum` over the same objects, decompressed.
 *
 * `deno task bench:capture` runs it alone and rewrites the "Capture" section of BENCHMARKS.md;
 * `deno task bench` runs it after the gateway benchmark.
 * @module
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { gunzipSync } from "node:zlib";
import { postgresAvailable, startPostgres, type TestPostgres } from "../tests/support/postgres.ts";
import { openPostgres } from "../storage/db/postgres.ts";
import { measureThroughput, type Path } from "./measure.ts";
import { ProcessGroup, waitUntil } from "./processes.ts";
import { HOST, realDenoBinary, startRecondo, startUpstream, writeUpstreamCertificate } from "./services.ts";
import { seedCapturedStore } from "./capture_seed.ts";
import { fixed } from "./stats.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const LOAD = { rounds: 1, connections: 32, durationMs: 8000, warmup: 20 };
const VERIFY_SEED = { exchanges: 1500, minBytes: 8 * 1024, maxBytes: 64 * 1024 };

interface VariantResult {
  name: string;
  reqPerSec: number;
  upstreamRequests: number;
  writtenDuringLoad: number | null;
  loadSeconds: number;
  drainSeconds: number | null;
  rows: number | null;
  peakQueued: number | null;
  spilled: number | null;
}

async function metricsOf(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(recondo_capture_\w+) (\S+)$/.exec(line);
    if (match) out.set(match[1], Number(match[2]));
  }
  return out;
}

async function countRows(
  store: "sqlite" | "postgres",
  dataDir: string,
  dbUrl: string | null,
): Promise<number> {
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

/** Runs the whole capture benchmark and returns its markdown section. */
export async function captureBench(group: ProcessGroup, work: string): Promise<string> {
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
    const variants: { name: string; store: "sqlite" | "postgres" | null; env: Record<string, string> }[] = [
      { name: "capture off", store: null, env: {} },
      { name: "SQLite", store: "sqlite", env: { RECONDO_STORE: "sqlite" } },
    ];
    let dbUrl: string | null = null;
    if (postgres) {
      dbUrl = await postgres.createDatabase();
      variants.push({
        name: "PostgreSQL",
        store: "postgres",
        env: { RECONDO_STORE: "postgres", RECONDO_DB_URL: dbUrl },
      });
    }
    const results: VariantResult[] = [];
    for (const [i, variant] of variants.entries()) {
      console.error(`bench: capture, ${variant.name}…`);
      const dataDir = join(work, `capture-${i}`);
      const proxy = await startRecondo(group, {
        deno,
        variant: variant.store ? "serve" : "proxy-only",
        upstreamPort: upstream.port,
        upstreamCaFile: files.ca,
        dataDir,
        cpuProfileDir: null,
        env: variant.env,
      });
      const path: Path = {
        name: variant.name,
        url: `https://${HOST}/v1/messages`,
        caPem: proxy.caPem,
        proxyUrl: proxy.url,
        proxy: proxy.service,
      };
      const countBefore = await upstreamCount();
      const writtenBefore = variant.store
        ? (await metricsOf(proxy.url)).get("recondo_capture_written") ?? 0
        : 0;
      let peakQueued = 0;
      let spilled = 0;
      const sampler = variant.store
        ? setInterval(async () => {
          const m = await metricsOf(proxy.url).catch(() => null);
          peakQueued = Math.max(peakQueued, m?.get("recondo_capture_queued") ?? 0);
          spilled = Math.max(spilled, m?.get("recondo_capture_spilled") ?? 0);
        }, 250)
        : undefined;
      const loadStart = performance.now();
      const throughput = (await measureThroughput(
        { group, deno, upstream: upstream.service },
        [path],
        LOAD,
      )).get(variant.name)!;
      const loadSeconds = (performance.now() - loadStart) / 1000;
      clearInterval(sampler);
      const upstreamRequests = (await upstreamCount()) - countBefore;
      let writtenDuringLoad: number | null = null;
      let drainSeconds: number | null = null;
      let rows: number | null = null;
      if (variant.store) {
        writtenDuringLoad = ((await metricsOf(proxy.url)).get("recondo_capture_written") ?? 0) -
          writtenBefore;
        const drainStart = performance.now();
        await waitUntil(
          async () => {
            const m = await metricsOf(proxy.url);
            return (m.get("recondo_capture_queued") ?? 1) === 0 &&
              (m.get("recondo_capture_written") ?? 0) - writtenBefore >= upstreamRequests;
          },
          300_000,
          () => `${variant.name}: the capture backlog did not drain within 300 s`,
        );
        drainSeconds = (performance.now() - drainStart) / 1000;
        rows = await countRows(variant.store, dataDir, dbUrl);
      }
      await group.stop(proxy.service);
      results.push({
        name: variant.name,
        reqPerSec: throughput.completed / throughput.seconds,
        upstreamRequests,
        writtenDuringLoad,
        loadSeconds,
        drainSeconds,
        rows,
        peakQueued: variant.store ? peakQueued : null,
        spilled: variant.store ? spilled : null,
      });
    }
    console.error("bench: verify vs sha256sum…");
    const verify = await verifyVersusSha256sum(deno, join(work, "verify"));
    return render(results, verify, notes);
  } finally {
    upstreamClient.close();
    await group.stop(upstream.service);
    await postgres?.[Symbol.asyncDispose]();
  }
}

interface VerifyResult {
  objects: number;
  turns: number;
  bytes: number;
  verifySeconds: number;
  sha256sumSeconds: number;
  ok: boolean;
}

/** Seeds a store with unique bodies, then times `recondo verify --all` and `sha256sum` over the same objects. */
async function verifyVersusSha256sum(deno: string, dir: string): Promise<VerifyResult> {
  await seedCapturedStore(dir, VERIFY_SEED);
  const env = {
    RECONDO_DATA_DIR: dir,
    RECONDO_STORE: "sqlite",
    RECONDO_OBJECTS: "local",
    RECONDO_LOG: "warn",
  };
  const started = performance.now();
  const out = await new Deno.Command(deno, {
    args: ["run", "--allow-all", join(ROOT, "main.ts"), "verify", "--all", "--json"],
    env,
    stdout: "piped",
    stderr: "null",
  }).output();
  const verifySeconds = (performance.now() - started) / 1000;
  const report = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    ok: boolean;
    checked_objects: number;
    checked_turns: number;
  };

  // The same objects decompressed to plain files (not timed), then hashed by sha256sum in one process.
  const plain = join(dir, "plain");
  await Deno.mkdir(plain);
  let bytes = 0;
  let n = 0;
  for await (const file of walkGz(join(dir, "objects"))) {
    const body = gunzipSync(await Deno.readFile(file));
    bytes += body.length;
    await Deno.writeFile(join(plain, `${n++}`), body);
  }
  const names = Array.from({ length: n }, (_, i) => join(plain, `${i}`));
  const shaStarted = performance.now();
  const sha = await new Deno.Command("sha256sum", { args: names, stdout: "null", stderr: "null" }).output();
  const sha256sumSeconds = (performance.now() - shaStarted) / 1000;
  if (!sha.success) throw new Error("sha256sum failed");
  return {
    objects: report.checked_objects,
    turns: report.checked_turns,
    bytes,
    verifySeconds,
    sha256sumSeconds,
    ok: report.ok && out.success,
  };
}

async function* walkGz(dir: string): AsyncIterable<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walkGz(path);
    else if (entry.name.endsWith(".gz")) yield path;
  }
}

function render(results: VariantResult[], verify: VerifyResult, notes: string[]): string {
  const off = results.find((r) => r.name === "capture off");
  const int = (n: number | null) => n === null ? "—" : Math.round(n).toLocaleString("en-US");
  const rows = results.map((r) => {
    const exact = r.rows === null ? "—" : r.rows === r.upstreamRequests ? "yes" : `**no** (${r.rows} rows)`;
    const vsOff = off ? `${fixed((r.reqPerSec / off.reqPerSec) * 100, 0)}%` : "—";
    const during = r.writtenDuringLoad === null ? "—" : int(r.writtenDuringLoad / r.loadSeconds);
    const sustained = r.writtenDuringLoad === null || r.drainSeconds === null
      ? "—"
      : int(r.upstreamRequests / (r.loadSeconds + r.drainSeconds));
    return `| ${r.name} | ${int(r.reqPerSec)} | ${vsOff} | ${int(r.upstreamRequests)} | ${during} | ${
      r.drainSeconds === null ? "—" : fixed(r.drainSeconds, 1)
    } | ${sustained} | ${int(r.peakQueued)} / ${int(r.spilled)} | ${exact} |`;
  });
  const mbps = (seconds: number) => verify.bytes / 1e6 / seconds;
  return [
    `Measured ${
      new Date().toISOString().slice(0, 16).replace("T", " ")
    } UTC, one run, same machine and upstream as ` +
    `"Gateway overhead"; ${LOAD.connections} connections for ${LOAD.durationMs / 1000} s per row.`,
    "",
    "| gateway | proxy req/s | vs capture off | requests served | records persisted/s during load | drain after load (s) | captured/s sustained (load + drain) | peak backlog / spilled | every request captured exactly once |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ...rows,
    "",
    "| verify --all | objects | turns | body MB | seconds | MB/s | ratio to sha256sum |",
    "|---|---:|---:|---:|---:|---:|---:|",
    `| recondo verify --all (${verify.ok ? "ok" : "**problems**"}) | ${int(verify.objects)} | ${
      int(verify.turns)
    } | ${fixed(verify.bytes / 1e6, 1)} | ${fixed(verify.verifySeconds, 2)} | ${
      fixed(mbps(verify.verifySeconds), 0)
    } | ${fixed(verify.sha256sumSeconds / verify.verifySeconds, 2)}× |`,
    `| sha256sum over the same bodies, decompressed | ${int(verify.objects)} | — | ${
      fixed(verify.bytes / 1e6, 1)
    } | ${fixed(verify.sha256sumSeconds, 2)} | ${fixed(mbps(verify.sha256sumSeconds), 0)} | 1× |`,
    "",
    '- Proxy req/s is the load client\'s (2 KB JSON answers, as in "Gateway overhead"). Records persisted/s ' +
    "during load is the growth of `recondo_capture_written` over the load window (client start, warm-up and " +
    "measurement); captured/s sustained divides every request by load time plus drain time. Exactly once: " +
    "rows in `exchanges` equal the requests the upstream answered in that row's run.",
    "- Capture runs on the gateway's worker thread and commits what queued up meanwhile in one transaction; " +
    "when it falls behind, the backlog stays in memory up to 64 MiB and then spills to the journal.",
    `- verify: a store seeded with ${VERIFY_SEED.exchanges} exchanges whose request bodies are unique, ` +
    `${VERIFY_SEED.minBytes / 1024}–${VERIFY_SEED.maxBytes / 1024} KB. \`recondo verify --all\` (a fresh ` +
    "process: start-up included) reads, gunzips and SHA-256-hashes every object and also recomputes every " +
    "turn's chain link and checks the signed heads; `sha256sum` only hashes the same bodies, already " +
    "decompressed to plain files, in one process. Ratio = sha256sum time / verify time.",
    ...notes.map((n) => `- ${n}`),
  ].join("\n");
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
