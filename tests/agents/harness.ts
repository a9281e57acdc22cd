/**
 * Runs `run_in_netns.ts` once inside `unshare -n` (loopback only) and parses its JSON lines: one result
 * per scenario, and the turns the gateway captured. Shared by every real-agent test file.
 * @module
 */
import type { ScenarioResult } from "./run_scenario.ts";
import type { ScenarioName } from "./scenarios.ts";

const RUNNER = new URL("./run_in_netns.ts", import.meta.url).pathname;

/** A turn as the gateway persisted it (columns of `turns`). */
export interface CapturedTurn {
  provider: string;
  api: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  usage_estimated: number;
  /** The Azure deployment the request named; null elsewhere. */
  deployment: string | null;
  /** OpenRouter's own `usage.cost`; null elsewhere. */
  provider_reported_cost_usd: number | null;
}

export interface HarnessRun {
  results: Map<ScenarioName, ScenarioResult>;
  captured: CapturedTurn[];
}

/** Runs every scenario once, in one network namespace with one gateway; `extraArgs` go to the runner. */
export async function runHarness(extraArgs: string[]): Promise<HarnessRun> {
  const output = await new Deno.Command("unshare", {
    args: [
      "-n",
      "--",
      Deno.execPath(),
      "run",
      "--allow-all",
      "--unstable-no-legacy-abort",
      RUNNER,
      ...extraArgs,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr);
    throw new Error(`run_in_netns.ts exited with ${output.code}:\n${stderr.slice(-4000)}`);
  }
  const run: HarnessRun = { results: new Map(), captured: [] };
  for (const line of stdout.split("\n").filter((l) => l.startsWith("{"))) {
    const parsed = JSON.parse(line) as ScenarioResult | { captured: CapturedTurn[] };
    if ("captured" in parsed) run.captured.push(...parsed.captured);
    else run.results.set(parsed.scenario, parsed);
  }
  return run;
}
