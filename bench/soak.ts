/**
 * `deno task soak`: holds many SSE streams open at once through a real `serve` (capture on) and reports
 * the gateway's memory and file descriptors (idle, peak, one minute after), every event's delay, and
 * whether each exchange was recorded exactly once; writes the "Soak" section of BENCHMARKS.md.
 *
 *   deno task soak [--streams 1000] [--minutes 10] [--interval-ms 1000] [--settle-s 60] [--no-write]
 *                  [--env=NAME=VALUE …] [--json FILE]
 *
 * `--env` adds to the gateway's environment (e.g. `--env=MALLOC_ARENA_MAX=2`, to compare allocators).
 * @module
 */
import { writeSections } from "./benchmarks_md.ts";
import { waitForQuietMachine } from "./processes.ts";
import { checkSoak, renderSoak } from "./soak_report.ts";
import { runSoak } from "./soak_run.ts";
import { fixed } from "./stats.ts";
import { DEFAULT_MAX_IDLE_PER_HOST } from "../proxy/upstream_client.ts";

/** Idle upstream connections the gateway may keep after the burst: one host, two engines. */
const POOL_BOUND = 2 * DEFAULT_MAX_IDLE_PER_HOST;

function flag(name: string, fallback: number): number {
  const at = Deno.args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(Deno.args[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`--${name} must be a positive number`);
  return value;
}

function option(name: string): string | undefined {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 ? Deno.args[at + 1] : undefined;
}

async function machine(): Promise<string> {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(await Deno.readTextFile("/proc/cpuinfo"))?.[1] ?? "unknown CPU";
  return `${navigator.hardwareConcurrency} × ${cpu.trim()}, deno ${Deno.version.deno}`;
}

if (import.meta.main) {
  const env: Record<string, string> = {};
  for (const arg of Deno.args) {
    const m = /^--env=([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(arg);
    if (m) env[m[1]] = m[2];
  }
  const others = await waitForQuietMachine(0.2, 60_000);
  console.error(`soak: other processes use ${fixed(others * 100, 0)}% of the CPU`);
  const result = await runSoak({
    streams: flag("streams", 1000),
    minutes: flag("minutes", 10),
    eventIntervalMs: flag("interval-ms", 1000),
    settleMs: flag("settle-s", 60) * 1000,
    gatewayEnv: env,
    gatewayEntry: option("entry")?.split(" "),
  });
  const { samples: _, ...summary } = result;
  console.log(JSON.stringify({ ...summary, env, checks: checkSoak(result, POOL_BOUND) }, null, 1));
  const json = option("json");
  if (json) await Deno.writeTextFile(json, JSON.stringify({ ...result, env }));
  if (!Deno.args.includes("--no-write") && Object.keys(env).length === 0 && !option("entry")) {
    const date = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC";
    const file = await writeSections({
      Soak: renderSoak(result, { date, machine: await machine(), poolBound: POOL_BOUND }),
    });
    console.error(`soak: wrote ${file}`);
  }
}
