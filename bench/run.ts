/**
 * `deno task bench`: Recondo's overhead next to direct and next to its peers, `mitmdump` and squid with
 * ssl-bump, on loopback, in one run, written to BENCHMARKS.md ("Gateway overhead", "Response parsers",
 * "Capture" from bench/capture_bench.ts, "Storage growth" from bench/storage_growth.ts). `--only
 * gateway,storage` runs some parts (their sections are rewritten, the others kept); `--quick` is a short
 * smoke run of the gateway part that writes nothing. `--profile` also runs Recondo under V8's CPU profiler
 * and prints where its time went (that run's numbers are slowed by the profiler, so BENCHMARKS.md is left
 * alone).
 *
 * Processes: a Node HTTPS upstream, Recondo (`main.ts serve` on the real deno binary), mitmdump, squid
 * (with its certificate helpers), and one load-generator process per measurement. All are stopped when the
 * run ends, fails or is interrupted.
 * @module
 */
import { join } from "node:path";
import { captureBench } from "./capture_bench.ts";
import { storageGrowthBench } from "./storage_growth.ts";
import { summarizeCpuProfile } from "./cpu_profile.ts";
import { measureLatency, measureSse, measureThroughput, type Path, proxiedPath } from "./measure.ts";
import { cpuAccount, ProcessGroup, procTreeStats, waitForQuietMachine } from "./processes.ts";
import { fixed } from "./stats.ts";
import { checkTargets, type PathResult, renderReport, type RunInfo } from "./report.ts";
import { writeSections } from "./benchmarks_md.ts";
import {
  ensureBenchPeers,
  type Proxy,
  realDenoBinary,
  startMitmdump,
  startRecondo,
  startSquid,
  startUpstream,
  writeUpstreamCertificate,
} from "./services.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const FULL = {
  latency: { rounds: 3, count: 700, warmup: 200 },
  throughput: { rounds: 2, connections: 32, durationMs: 5000, warmup: 20 },
  sse: { rounds: 3, count: 5, events: 20, intervalMs: 20 },
};
/** `--quick`: a smoke run of the gateway part (nothing is written to BENCHMARKS.md). */
const QUICK = {
  latency: { rounds: 1, count: 100, warmup: 20 },
  throughput: { rounds: 1, connections: 32, durationMs: 1000, warmup: 5 },
  sse: { rounds: 1, count: 2, events: 20, intervalMs: 20 },
};
const SETTINGS = Deno.args.includes("--quick") ? QUICK : FULL;
/** The parts a run does; `--only gateway,storage` picks some (default: all). */
const PARTS = ["gateway", "parsers", "capture", "storage"] as const;
type Part = typeof PARTS[number];

async function commandLine(command: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(command, { args, stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout).trim().split("\n")[0];
  } catch {
    return "not installed";
  }
}

async function machine(): Promise<string> {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(await Deno.readTextFile("/proc/cpuinfo"))?.[1] ?? "unknown CPU";
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  return `${navigator.hardwareConcurrency} × ${cpu.trim()} (load average before the run ${load})`;
}

async function gatewayBench(group: ProcessGroup, work: string, profileDir: string | null) {
  const deno = await realDenoBinary();
  const othersAtStart = await waitForQuietMachine(0.2, 90_000);
  const cpuAtStart = cpuAccount();
  const { caPem: upstreamCaPem, files } = await writeUpstreamCertificate(work, "upstream");
  const peers = await ensureBenchPeers();
  const mitmVersion = (await commandLine("mitmdump", ["--version"])).replace(/^Mitmproxy:\s*/, "");
  const squidVersion = (await commandLine("/usr/sbin/squid", ["-v"])).replace(/^Squid Cache: Version\s*/, "");
  const info: RunInfo = {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    machine: await machine(),
    versions: `deno ${Deno.version.deno}, node ${await commandLine("node", [
      "--version",
    ])}, mitmdump ${mitmVersion}, squid ${squidVersion} (squid-openssl)`,
    eventsPerStream: SETTINGS.sse.events,
    eventIntervalMs: SETTINGS.sse.intervalMs,
    connections: SETTINGS.throughput.connections,
    durationMs: SETTINGS.throughput.durationMs,
    notes: [],
  };

  const upstream = await startUpstream(group, files);
  const recondoOptions = { deno, upstreamPort: upstream.port, upstreamCaFile: files.ca };
  const [recondo, proxyOnly, mitm, squid] = await Promise.all([
    startRecondo(group, {
      ...recondoOptions,
      variant: "serve",
      dataDir: join(work, "recondo"),
      cpuProfileDir: profileDir && join(profileDir, "serve"),
    }),
    startRecondo(group, {
      ...recondoOptions,
      variant: "proxy-only",
      dataDir: join(work, "recondo-proxy-only"),
      cpuProfileDir: profileDir && join(profileDir, "proxy-only"),
    }),
    peers.mitmdump.ok
      ? startMitmdump(group, { upstreamPort: upstream.port, confDir: join(work, "mitmproxy") })
      : Promise.resolve(null),
    peers.squid.ok
      ? startSquid(group, {
        upstreamPort: upstream.port,
        upstreamCaFile: files.ca,
        stateDir: join(work, "squid"),
      })
      : Promise.resolve(null),
  ]);
  if (!peers.mitmdump.ok) info.notes.push(`mitmdump column skipped: ${peers.mitmdump.reason}`);
  if (!peers.squid.ok) info.notes.push(`squid column skipped: ${peers.squid.reason}`);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const proxies = [recondo, proxyOnly, mitm, squid].filter((p): p is Proxy => p !== null);
  const idleRss = new Map(proxies.map((p) => [p.name, procTreeStats(p.service.pid).rssKb]));

  const paths: Path[] = [
    { name: "direct", url: `https://127.0.0.1:${upstream.port}/v1/messages`, caPem: upstreamCaPem },
    ...proxies.map((p) => proxiedPath(p)),
  ];
  const context = { group, deno, upstream: upstream.service };
  console.error("bench: latency at 1 connection…");
  const latency = await measureLatency(context, paths, SETTINGS.latency);
  console.error(`bench: req/s at ${SETTINGS.throughput.connections} connections…`);
  const throughput = await measureThroughput(context, paths, SETTINGS.throughput);
  console.error("bench: SSE…");
  const sse = await measureSse(context, paths, SETTINGS.sse);

  const results: PathResult[] = paths.map((path) => {
    const t = throughput.get(path.name)!;
    const s = sse.get(path.name)!;
    if (t.firstError) info.notes.push(`${path.name}: first error under load: ${t.firstError}`);
    return {
      name: path.name,
      latencyMs: latency.get(path.name)!,
      throughputRounds: t.rounds,
      completed: t.completed,
      seconds: t.seconds,
      errors: t.errors,
      ttfbMs: s.ttfbMs,
      eventDelayMs: s.eventDelayMs,
      eventsPerStream: s.eventsPerStream,
      rss: path.proxy ? { idleKb: idleRss.get(path.name)!, loadKb: t.loadRssKb } : null,
      cpuPerRequestMs: {
        proxy: t.cpuMs.proxy === null ? null : t.cpuMs.proxy / t.completed,
        upstream: t.cpuMs.upstream / t.completed,
        client: t.cpuMs.client / t.completed,
      },
    };
  });
  info.notes.push(...methodNotes());
  const direct = results[0];
  const recondoResult = results.find((r) => r.name === "Recondo")!;
  const peerResults = {
    mitm: results.find((r) => r.name === "mitmdump") ?? null,
    squid: results.find((r) => r.name === "squid") ?? null,
  };
  const checks = checkTargets(direct, recondoResult, peerResults, info);
  const captureOff = results.find((r) => r.name === proxyOnly.name);
  const captureOffChecks = captureOff ? checkTargets(direct, captureOff, peerResults, info) : null;
  // Stopping them writes their CPU profiles, when asked for; stopped children count in cpuAccount.
  await group.stopAll();
  const cpuAtEnd = cpuAccount();
  const others = (cpuAtEnd.machineBusyMs - cpuAtStart.machineBusyMs - (cpuAtEnd.oursMs - cpuAtStart.oursMs)) /
    (cpuAtEnd.machineTotalMs - cpuAtStart.machineTotalMs);
  info.notes.unshift(
    `Other processes on the machine used ${fixed(othersAtStart * 100, 0)}% of its CPU just before the run ` +
      `and ${fixed(Math.max(0, others) * 100, 0)}% during it (from /proc/stat, minus this run's processes).`,
  );
  return { results, checks, info, markdown: renderReport(results, checks, info, captureOffChecks) };
}

function methodNotes(): string[] {
  const { latency, throughput, sse } = SETTINGS;
  return [
    "Every path sends the same `POST /v1/messages` (Anthropic Messages, ~250 B JSON body) to one local Node " +
    "`https` upstream that answers a 2 KB JSON message, or an SSE stream of " +
    `${sse.events} events ${sse.intervalMs} ms apart. Direct: \`https://127.0.0.1:PORT\`. Recondo and ` +
    "mitmdump: `CONNECT api.anthropic.com:443`, TLS intercepted with their own CA (the client trusts it), " +
    "then to the same upstream (Recondo via `RECONDO_UPSTREAM_OVERRIDE`, mitmdump via the addon " +
    "`bench/mitm_resolve.py`, which only rewrites the address once per upstream connection). squid: " +
    "`CONNECT api.anthropic.com:<upstream port>` (squid cannot move a bumped request to another port " +
    "without a rewriting helper), its `hosts_file` putting that name on 127.0.0.1.",
    "Recondo runs as `recondo serve` does: capture on (SQLite + object files in a temp data dir), provider " +
    'parsing, default (empty) policy chain, `RECONDO_LOG=warn`. "Recondo, capture off" is the same ' +
    "gateway with the null capture sink (`bench/gateway_only.ts`), to separate the proxy path from capture. " +
    "mitmdump: `-q --set ssl_insecure=true`, defaults otherwise; by default it buffers whole responses (no " +
    "`stream_large_bodies`), which its SSE column shows. squid: Debian's `squid-openssl` as `squid -N` " +
    "with ssl-bump (`ssl_bump peek step1`, `ssl_bump bump all`, host certificates from its " +
    "`security_file_certgen` helpers, 16 MB in-memory certificate cache), `cache deny all`, " +
    "`access_log none`, the upstream's CA in `tls_outgoing_options` (bench/squid_conf.ts); scripts/" +
    "install_bench_peers.sh installs both peers.",
    "The client is a separate Deno process (fetch: hyper + rustls), HTTP/1.1 only, one connection per " +
    `worker. Latency: ${latency.rounds} rounds × ${latency.count} sequential requests after ${latency.warmup} ` +
    `warm-up ones. Throughput: ${throughput.rounds} rounds × ${throughput.durationMs / 1000} s at ` +
    `${throughput.connections} connections. SSE: ${sse.rounds} rounds × ${sse.count} streams on a warm ` +
    "connection; an event's delay is receive time minus the send time the upstream wrote into it. The " +
    "paths' order rotates every round. CPU per request is each process's user + system time over the " +
    "timed throughput windows divided by the requests completed in them; a proxy's counts its whole " +
    "process tree (squid's certificate helpers included, and children that exited meanwhile through " +
    "their parent's cutime/cstime). Proxy RSS is likewise summed over the tree.",
    "The machine is shared with other work, so absolute numbers move between runs; the ratios and " +
    "differences against direct in the same run are what the targets compare.",
  ];
}

async function parsersSection(): Promise<string | null> {
  const file = join(ROOT, "bench", "parsers_bench.ts");
  try {
    await Deno.stat(file);
  } catch {
    return null;
  }
  const module = await import(new URL("./parsers_bench.ts", import.meta.url).href) as {
    runParsersBench?: () => Promise<string>;
  };
  if (typeof module.runParsersBench !== "function") {
    throw new Error(`${file} does not export runParsersBench(): Promise<string>`);
  }
  console.error("bench: response parsers…");
  return await module.runParsersBench();
}

function stamp(): string {
  return new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
}

function selectedParts(args: string[]): Set<Part> {
  const i = args.findIndex((a) => a === "--only" || a.startsWith("--only="));
  if (i === -1) return new Set(Deno.args.includes("--quick") ? ["gateway"] : PARTS);
  const value = args[i].includes("=") ? args[i].slice("--only=".length) : args[i + 1] ?? "";
  const parts = value.split(",").filter(Boolean);
  for (const part of parts) {
    if (!(PARTS as readonly string[]).includes(part)) {
      throw new Error(`Unknown --only part "${part}": expected some of ${PARTS.join(", ")}`);
    }
  }
  return new Set(parts as Part[]);
}

async function main(): Promise<number> {
  const profile = Deno.args.includes("--profile");
  const write = !profile && !Deno.args.includes("--quick");
  const parts = selectedParts(Deno.args);
  const group = new ProcessGroup();
  const work = await Deno.makeTempDir({ prefix: "recondo-bench-" });
  const profileDir = profile ? join(ROOT, "bench", "results", `profile_${stamp()}`) : null;
  if (profileDir) {
    await Deno.mkdir(join(profileDir, "serve"), { recursive: true });
    await Deno.mkdir(join(profileDir, "proxy-only"), { recursive: true });
  }
  const interrupt = () => {
    console.error("bench: interrupted, stopping child processes");
    group.stopAll().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", interrupt);
  Deno.addSignalListener("SIGTERM", interrupt);
  const started = Date.now();
  const sections: Record<string, string> = {};
  try {
    if (parts.has("gateway") || profile) {
      const gateway = await gatewayBench(group, work, profileDir);
      console.log(`## Gateway overhead\n\n${gateway.markdown}\n`);
      await Deno.mkdir(join(ROOT, "bench", "results"), { recursive: true });
      await Deno.writeTextFile(
        join(ROOT, "bench", "results", `gateway_${stamp()}.json`),
        JSON.stringify({ info: gateway.info, checks: gateway.checks, results: gateway.results }),
      );
      if (profileDir) {
        console.log(
          `### CPU profile: Recondo (serve)\n\n${await summarizeCpuProfile(join(profileDir, "serve"))}\n`,
        );
        console.log(
          `### CPU profile: Recondo, capture off\n\n${await summarizeCpuProfile(
            join(profileDir, "proxy-only"),
          )}`,
        );
        return 0;
      }
      sections["Gateway overhead"] = gateway.markdown;
    }
    if (parts.has("parsers")) {
      const parsers = await parsersSection();
      if (parsers) {
        console.log(`## Response parsers\n\n${parsers}\n`);
        sections["Response parsers"] = parsers;
      }
    }
    if (parts.has("capture")) {
      const capture = await captureBench(group, work);
      console.log(`## Capture\n\n${capture}\n`);
      sections.Capture = capture;
    }
    if (parts.has("storage")) {
      const storage = await storageGrowthBench(work);
      console.log(`## Storage growth\n\n${storage}\n`);
      sections["Storage growth"] = storage;
    }
    if (write) {
      const file = await writeSections(sections);
      console.error(`bench: wrote ${file} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    // A missed target is a result to read in the table, not a failed run.
    return 0;
  } finally {
    await group.stopAll();
    await Deno.remove(work, { recursive: true }).catch(() => {});
    Deno.removeSignalListener("SIGINT", interrupt);
    Deno.removeSignalListener("SIGTERM", interrupt);
  }
}

if (import.meta.main) Deno.exit(await main());
