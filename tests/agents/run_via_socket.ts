/**
 * Runs one real agent CLI inside a loopback-only network namespace against a proxy that lives outside it,
 * reached through a path-based Unix socket (those cross network namespaces; 127.0.0.1 does not). Used by
 * the fleet tests: the proxy is haproxy's Unix frontend, so the CLI's traffic really goes through the
 * balancer to the gateway replicas, while the CLI itself still cannot reach any other host.
 *
 *   unshare -n -- deno run -A tests/agents/run_via_socket.ts --socket=PATH --ca-file=PEM \
 *     [--scenario=claude] [--prompt=TEXT] [--timeout=60] [--proxy-auth=NAME:TOKEN]
 *
 * Inside, it brings `lo` up, listens on a free 127.0.0.1 port, pipes every connection to the socket, runs
 * the scenario's CLI (tests/agents/scenarios.ts: same flags, quiet variables, fresh HOME, `timeout`) with
 * HTTPS_PROXY at that port, and prints one JSON line (`SocketRunResult`) on stdout.
 * @module
 */
import { join } from "node:path";
import { freePort } from "../support/ports.ts";
import { ensureLoopbackOnly } from "./run_in_netns.ts";
import {
  agentsBinDir,
  OPT_IN_SCENARIO_NAMES,
  SCENARIO_NAMES,
  type ScenarioName,
  SCENARIOS,
} from "./scenarios.ts";

/** The JSON line this runner prints. */
export interface SocketRunResult {
  scenario: ScenarioName;
  exitCode: number;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderrTail: string;
  /** Connections the bridge carried to the proxy. */
  bridgedConnections: number;
}

interface Args {
  socket: string;
  caFile: string;
  scenario: ScenarioName;
  prompt: string;
  timeoutSec: number;
  proxyAuth?: string;
}

function parseArgs(argv: string[]): Args {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const socket = value("socket");
  const caFile = value("ca-file");
  if (!socket || !caFile) throw new Error("run_via_socket.ts needs --socket=PATH and --ca-file=PEM");
  const scenario = (value("scenario") ?? "claude") as ScenarioName;
  if (![...SCENARIO_NAMES, ...OPT_IN_SCENARIO_NAMES].includes(scenario)) {
    throw new Error(`Unknown scenario ${JSON.stringify(scenario)}`);
  }
  const timeoutSec = Number(value("timeout") ?? "60");
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) {
    throw new Error(`--timeout must be > 0, got ${timeoutSec}`);
  }
  return {
    socket,
    caFile,
    scenario,
    prompt: value("prompt") ?? "Reply with the single word OK.",
    timeoutSec,
    proxyAuth: value("proxy-auth"),
  };
}

/** Listens on 127.0.0.1 and pipes each connection to the Unix socket at `path`. */
function bridge(path: string): { port: number; connections(): number; close(): void } {
  const port = freePort();
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  let count = 0;
  (async () => {
    for await (const conn of listener) {
      count++;
      conn.setNoDelay(true);
      Deno.connect({ transport: "unix", path }).then(
        (upstream) => {
          // Each direction ends on its own; errors just end the pair (a cut stream is the test's business).
          conn.readable.pipeTo(upstream.writable).catch(() => {});
          upstream.readable.pipeTo(conn.writable).catch(() => {});
        },
        () => conn.close(),
      );
    }
  })().catch(() => {});
  return { port, connections: () => count, close: () => listener.close() };
}

async function main(): Promise<SocketRunResult> {
  const args = parseArgs(Deno.args);
  await ensureLoopbackOnly();
  const pipe = bridge(args.socket);
  const scenario = SCENARIOS[args.scenario];
  const home = await Deno.makeTempDir({ prefix: `recondo-${args.scenario}-home-` });
  try {
    const cwd = join(home, "project");
    await Deno.mkdir(cwd);
    await scenario.prepareHome?.(home);
    const proxyUrl = `http://${args.proxyAuth ? `${args.proxyAuth}@` : ""}127.0.0.1:${pipe.port}`;
    const ctx = {
      home,
      mode: "gateway" as const,
      proxyUrl,
      fakeUrl: "",
      // No metadata server here: scenarios that need Google credentials do not run behind the balancer.
      metadataHost: "",
      caFile: args.caFile,
      prompt: args.prompt,
    };
    const started = performance.now();
    const output = await new Deno.Command("timeout", {
      args: ["-k", "5", String(args.timeoutSec), join(agentsBinDir(), scenario.bin), ...scenario.args(ctx)],
      cwd,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
        HOME: home,
        USER: "recondo",
        LANG: "C.UTF-8",
        TERM: "dumb",
        NO_COLOR: "1",
        ...scenario.env(ctx),
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      scenario: args.scenario,
      exitCode: output.code,
      timedOut: output.code === 124 || output.code === 137,
      durationMs: Math.round(performance.now() - started),
      stdout: decoder.decode(output.stdout).slice(-3000),
      stderrTail: decoder.decode(output.stderr).slice(-3000),
      bridgedConnections: pipe.connections(),
    };
  } finally {
    pipe.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

/** Runs this file inside `unshare -n` and parses its line: what the fleet tests call. */
export async function runViaSocket(options: {
  socket: string;
  caFile: string;
  scenario?: ScenarioName;
  prompt?: string;
  timeoutSec?: number;
  proxyAuth?: string;
}): Promise<SocketRunResult> {
  const args = [`--socket=${options.socket}`, `--ca-file=${options.caFile}`];
  if (options.scenario) args.push(`--scenario=${options.scenario}`);
  if (options.prompt) args.push(`--prompt=${options.prompt}`);
  if (options.timeoutSec) args.push(`--timeout=${options.timeoutSec}`);
  if (options.proxyAuth) args.push(`--proxy-auth=${options.proxyAuth}`);
  const output = await new Deno.Command("unshare", {
    args: ["-n", "--", Deno.execPath(), "run", "--allow-all", new URL(import.meta.url).pathname, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const line = stdout.split("\n").find((l) => l.startsWith("{"));
  if (!output.success || !line) {
    throw new Error(
      `run_via_socket.ts exited with ${output.code}:\n${stdout}\n${
        new TextDecoder().decode(output.stderr).slice(-3000)
      }`,
    );
  }
  return JSON.parse(line) as SocketRunResult;
}

if (import.meta.main) {
  try {
    console.log(JSON.stringify(await main()));
    Deno.exit(0);
  } catch (error) {
    console.error(`[run_via_socket] ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(2);
  }
}
