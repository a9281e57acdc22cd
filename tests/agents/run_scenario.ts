/**
 * One real-agent run: a fresh HOME and working directory, a clean environment (nothing of the caller's
 * leaks in, e.g. a base-URL variable that would bypass the proxy), `timeout`, no stdin; then what the
 * fake provider saw during the run, checked against the scenario's expected requests.
 * @module
 */
import { join } from "node:path";
import type { FakeProvider, RecordedRequest } from "../fake_provider/mod.ts";
import type { GatewayProcess } from "./gateway_process.ts";
import type { ExpectedRequest, Scenario, ScenarioName } from "./scenarios.ts";

/** What the fake saw, in short. */
export interface SeenRequest {
  method: string;
  path: string;
  host: string;
  bodyBytes: number;
  wsMessages?: number;
}

/** The JSON line printed per scenario. */
export interface ScenarioResult {
  scenario: ScenarioName;
  /** Exit 0, the answer printed, and every expected request seen by the fake. */
  ok: boolean;
  exitCode: number;
  /** `timeout` killed the CLI. */
  timedOut: boolean;
  durationMs: number;
  answerSeen: boolean;
  stdout: string;
  stderrTail: string;
  requests: SeenRequest[];
  /** Expected requests the fake did not see. */
  missing: string[];
  /** The gateway's last log lines, only when the run failed. */
  gatewayLogTail?: string[];
}

/** What {@link runScenario} needs from the harness. */
export interface RunContext {
  binDir: string;
  work: string;
  fake: FakeProvider;
  /** The gateway to go through, or undefined to point the CLI at the fake directly. */
  gateway?: GatewayProcess;
  /** PEM file of the fake's CA (what a CLI must trust in direct mode). */
  fakeCaFile: string;
  answer: string;
  timeoutSec: number;
  /** The prompt (default: "Reply with the single word OK."). */
  prompt?: string;
  /** `127.0.0.1:PORT` of the fake GCE metadata server (scenarios that need Google credentials). */
  metadataHost: string;
}

const TAIL_CHARS = 3000;

function summarize(request: RecordedRequest): SeenRequest {
  const seen: SeenRequest = {
    method: request.method,
    path: request.path,
    host: request.host,
    bodyBytes: request.body.byteLength,
  };
  if (request.wsMessages) seen.wsMessages = request.wsMessages.length;
  return seen;
}

function matches(seen: SeenRequest, expected: ExpectedRequest, checkHost: boolean): boolean {
  const pathOk = typeof expected.path === "string"
    ? seen.path === expected.path
    : expected.path.test(seen.path);
  return seen.method === expected.method && pathOk && (!checkHost || seen.host === expected.host) &&
    (expected.minWsMessages === undefined || (seen.wsMessages ?? 0) >= expected.minWsMessages);
}

function describe(expected: ExpectedRequest): string {
  const ws = expected.minWsMessages ? ` with ≥${expected.minWsMessages} WebSocket frames` : "";
  return `${expected.method} ${expected.path} (Host: ${expected.host})${ws}`;
}

/** Runs `scenario` once and reports what happened. */
export async function runScenario(scenario: Scenario, ctx: RunContext): Promise<ScenarioResult> {
  const home = await Deno.makeTempDir({ dir: ctx.work, prefix: `${scenario.name}-home-` });
  const cwd = join(home, "project");
  await Deno.mkdir(cwd);
  await scenario.prepareHome?.(home);
  const scenarioCtx = {
    home,
    mode: ctx.gateway ? "gateway" as const : "direct" as const,
    proxyUrl: ctx.gateway?.proxyUrl ?? "",
    fakeUrl: ctx.fake.url,
    metadataHost: ctx.metadataHost,
    caFile: ctx.gateway?.caFile ?? ctx.fakeCaFile,
    prompt: ctx.prompt ?? "Reply with the single word OK.",
  };
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    USER: "recondo",
    LANG: "C.UTF-8",
    TERM: "dumb",
    NO_COLOR: "1",
    ...scenario.env(scenarioCtx),
  };
  const firstRequest = ctx.fake.requests.length;
  const started = performance.now();
  const output = await new Deno.Command("timeout", {
    args: [
      "-k",
      "5",
      String(ctx.timeoutSec),
      scenario.bin.startsWith("/") ? scenario.bin : join(ctx.binDir, scenario.bin),
      ...scenario.args(scenarioCtx),
    ],
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const durationMs = Math.round(performance.now() - started);
  const decoder = new TextDecoder();
  const stdout = decoder.decode(output.stdout);
  const stderr = decoder.decode(output.stderr);
  const requests = ctx.fake.requests.slice(firstRequest).map(summarize);
  const checkHost = ctx.gateway !== undefined;
  const missing = scenario.expect.filter((e) => !requests.some((seen) => matches(seen, e, checkHost))).map(
    describe,
  );
  const answerSeen = stdout.includes(ctx.answer);
  const ok = output.code === 0 && answerSeen && missing.length === 0;
  const result: ScenarioResult = {
    scenario: scenario.name,
    ok,
    exitCode: output.code,
    timedOut: output.code === 124 || output.code === 137,
    durationMs,
    answerSeen,
    stdout: stdout.slice(-TAIL_CHARS),
    stderrTail: stderr.slice(-TAIL_CHARS),
    requests,
    missing,
  };
  if (!ok && ctx.gateway) result.gatewayLogTail = ctx.gateway.logTail();
  return result;
}
