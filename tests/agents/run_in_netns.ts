/**
 * Runs the real agent CLIs through the gateway against the fake provider, inside a network namespace that
 * has only loopback, so a client that bypassed the proxy could not reach any real host.
 *
 *   unshare -n -- deno run -A --unstable-no-legacy-abort tests/agents/run_in_netns.ts [scenario…]
 *     [--http-upstream] [--direct] [--timeout=60] [--config=FILE] [--proxy-auth=NAME:TOKEN] [--gateway-log]
 *     [--otlp-dump=DIR]
 *
 * Scenarios: claude, codex-ws, codex-http, gemini, claude-vertex, gemini-vertex, codex-azure, openrouter-sdk
 * (default: all). Starts one fake provider (HTTPS by
 * default, with its own throwaway CA given to the gateway as an extra root) and one gateway
 * (`main.ts serve`), runs each CLI with `timeout`, a fresh HOME and no stdin, and prints one JSON line
 * per scenario on stdout (see `ScenarioResult`). Progress goes to stderr. `--http-upstream` serves the
 * fake over plain HTTP; `--direct` skips the gateway and points each CLI at the fake with its own
 * base-URL setting (to tell a fake-provider problem from a gateway problem). `--config` hands the gateway
 * a config file (e.g. a block-list policy); `--proxy-auth` puts credentials in HTTPS_PROXY;
 * `--gateway-log` prints the gateway's last log lines to stderr at the end. `--otlp-dump` runs a stand-in
 * collector on 127.0.0.1:4318 that writes every OTLP export into DIR (`otlp_dump.ts`), kept up until the
 * gateway has stopped (it flushes its spans on shutdown).
 * @module
 */
import { join } from "node:path";
import { startFakeProvider } from "../fake_provider/mod.ts";
import { startFakeMetadataServer } from "../fake_provider/gce_metadata.ts";
import { startOtlpDump } from "./otlp_dump.ts";
import { makeTestCertificate } from "../fake_provider/tls.ts";
import { DatabaseSync } from "node:sqlite";
import { type GatewayProcess, startGatewayProcess } from "./gateway_process.ts";
import {
  agentsBinDir,
  AZURE_HOST,
  BEDROCK_REGION,
  OPENROUTER_HOST,
  OPT_IN_SCENARIO_NAMES,
  SCENARIO_NAMES,
  type ScenarioName,
  SCENARIOS,
  VERTEX_HOSTS,
} from "./scenarios.ts";
import { runScenario } from "./run_scenario.ts";

/** Hosts the fake stands in for. */
const PROVIDER_HOSTS = [
  "api.anthropic.com",
  "api.openai.com",
  "generativelanguage.googleapis.com",
  ...VERTEX_HOSTS,
  AZURE_HOST,
  OPENROUTER_HOST,
  `bedrock-runtime.${BEDROCK_REGION}.amazonaws.com`,
];

/** Streamed in three deltas, 10 ms apart, so the gateway relays a real multi-event stream. */
const ANSWER = ["RECONDO-", "FAKE-", "OK"];

interface Args {
  scenarios: ScenarioName[];
  httpUpstream: boolean;
  direct: boolean;
  timeoutSec: number;
  configFile?: string;
  proxyAuth?: string;
  gatewayLog: boolean;
  /** The fake answers Claude Code's turn with a Bash call (`TOOL_SCRIPT`), then the text. */
  toolScript: boolean;
  /** Copy the gateway's data dir here (after its capture backlog drained) before it is removed. */
  keepData?: string;
  /** Directory for the stand-in OTLP collector's dumps (`--otlp-dump`). */
  otlpDump?: string;
}

/** The Bash call of `--tool-script`; its output marker shows up in the tool result Claude Code sends back. */
const TOOL_SCRIPT = {
  name: "Bash",
  input: { command: "echo recondo-tool-ok", description: "print a marker" },
};

function parseArgs(argv: string[]): Args {
  const scenarios: ScenarioName[] = [];
  let httpUpstream = false;
  let direct = false;
  let timeoutSec = 60;
  let configFile: string | undefined;
  let proxyAuth: string | undefined;
  let gatewayLog = false;
  let toolScript = false;
  let keepData: string | undefined;
  let otlpDump: string | undefined;
  for (const arg of argv) {
    if (arg === "--http-upstream") httpUpstream = true;
    else if (arg === "--direct") direct = true;
    else if (arg === "--gateway-log") gatewayLog = true;
    else if (arg.startsWith("--timeout=")) timeoutSec = Number(arg.slice("--timeout=".length));
    else if (arg.startsWith("--config=")) configFile = arg.slice("--config=".length);
    else if (arg.startsWith("--proxy-auth=")) proxyAuth = arg.slice("--proxy-auth=".length);
    else if (arg === "--tool-script") toolScript = true;
    else if (arg.startsWith("--keep-data=")) keepData = arg.slice("--keep-data=".length);
    else if (arg.startsWith("--otlp-dump=")) otlpDump = arg.slice("--otlp-dump=".length);
    else if ([...SCENARIO_NAMES, ...OPT_IN_SCENARIO_NAMES].includes(arg as ScenarioName)) {
      scenarios.push(arg as ScenarioName);
    } else {throw new Error(
        `Unknown argument ${JSON.stringify(arg)}; scenarios are ${
          [...SCENARIO_NAMES, ...OPT_IN_SCENARIO_NAMES].join(", ")
        }`,
      );}
  }
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) {
    throw new Error(`--timeout must be > 0, got ${timeoutSec}`);
  }
  return {
    scenarios: scenarios.length > 0 ? scenarios : [...SCENARIO_NAMES],
    httpUpstream,
    direct,
    timeoutSec,
    configFile,
    proxyAuth,
    gatewayLog,
    toolScript,
    keepData,
    otlpDump,
  };
}

/** Refuses to run where a CLI could reach the real providers: only `lo` may exist. */
export async function ensureLoopbackOnly(): Promise<void> {
  // /proc/self/net/dev lists this process's namespace (/sys/class/net would show the mounter's).
  const table = await Deno.readTextFile("/proc/self/net/dev");
  const interfaces = table.split("\n").slice(2).map((line) => line.split(":")[0].trim()).filter(Boolean);
  const others = interfaces.filter((name) => name !== "lo");
  if (others.length > 0) {
    throw new Error(
      `run_in_netns.ts must run inside 'unshare -n' (found interfaces ${others.join(", ")}); ` +
        "run: unshare -n -- deno run -A --unstable-no-legacy-abort tests/agents/run_in_netns.ts",
    );
  }
  const up = await new Deno.Command("ip", { args: ["link", "set", "lo", "up"], stderr: "piped" }).output();
  if (!up.success) throw new Error(`'ip link set lo up' failed: ${new TextDecoder().decode(up.stderr)}`);
}

function progress(message: string): void {
  console.error(`[agents] ${message}`);
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args);
  await ensureLoopbackOnly();
  const work = await Deno.makeTempDir({ prefix: "recondo-agents-" });
  const material = makeTestCertificate();
  const fakeCaFile = join(work, "fake-provider-ca.pem");
  await Deno.writeTextFile(fakeCaFile, material.caCert);
  const fake = await startFakeProvider({
    tls: args.httpUpstream ? undefined : { cert: material.cert, key: material.key },
    behavior: { answer: ANSWER, eventDelayMs: 10, toolScript: args.toolScript ? TOOL_SCRIPT : undefined },
  });
  const metadata = startFakeMetadataServer();
  let gateway: GatewayProcess | undefined;
  const otlp = args.otlpDump ? startOtlpDump(args.otlpDump) : null;
  try {
    const started = performance.now();
    if (!args.direct) {
      gateway = await startGatewayProcess({
        overrides: Object.fromEntries(PROVIDER_HOSTS.map((host) => [host, fake.url])),
        extraCaFile: fakeCaFile,
        // No `intercept` added: the defaults must cover every provider host the scenarios reach.
        configFile: args.configFile,
        proxyAuth: args.proxyAuth,
      });
    }
    const via = gateway ? `gateway at ${gateway.proxyUrl} ready after` : "no gateway (direct),";
    progress(`fake provider at ${fake.url}; ${via} ${Math.round(performance.now() - started)} ms`);
    for (const name of args.scenarios) {
      const result = await runScenario(SCENARIOS[name], {
        binDir: agentsBinDir(),
        work,
        fake,
        gateway,
        fakeCaFile,
        answer: ANSWER.join(""),
        timeoutSec: args.timeoutSec,
        metadataHost: metadata.host,
      });
      progress(`${name}: ${result.ok ? "ok" : "FAILED"} (exit ${result.exitCode}, ${result.durationMs} ms)`);
      console.log(JSON.stringify(result));
    }
    if (gateway) console.log(JSON.stringify({ captured: await capturedTurns(gateway) }));
    if (gateway && args.keepData) {
      await gateway.stop({ keepDataDir: true });
      const copy = await new Deno.Command("cp", { args: ["-a", `${gateway.dataDir}/.`, args.keepData] })
        .output();
      if (!copy.success) throw new Error(`cp of the gateway's data dir to ${args.keepData} failed`);
      await Deno.remove(gateway.dataDir, { recursive: true });
    }
    return 0;
  } finally {
    await gateway?.stop();
    await otlp?.close();
    if (args.gatewayLog && gateway) progress(`gateway log:\n${gateway.logTail().join("\n")}`);
    await fake.close();
    await metadata.close();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/** The given config file (or none) with {@link EXTRA_INTERCEPT} added to `intercept`, written into `work`. */
/** The turns the gateway persisted, once its capture backlog is empty (read-only, beside the running gateway). */
async function capturedTurns(gateway: GatewayProcess): Promise<Record<string, unknown>[]> {
  // The capture worker reports its counts every 200 ms, so "nothing queued" can predate the last exchange:
  // wait until nothing is queued or in transit and `written` has held still over several reports.
  const deadline = Date.now() + 15_000;
  let lastWritten = -1;
  let still = 0;
  while (Date.now() < deadline && still < 3) {
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.port}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(metrics)?.[1] ?? NaN);
    const written = value("recondo_capture_written");
    const idle = value("recondo_capture_queued") === 0 && value("recondo_capture_in_transit_bytes") === 0;
    still = idle && written === lastWritten ? still + 1 : 0;
    lastWritten = written;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  const db = new DatabaseSync(join(gateway.dataDir, "recondo.db"), { readOnly: true });
  try {
    return db.prepare(
      "SELECT provider, api, model, deployment, input_tokens, output_tokens, cache_read_tokens, reasoning_tokens, usage_estimated, provider_reported_cost_usd FROM turns ORDER BY started_at",
    ).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(`[agents] harness error: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(2);
  }
}
