/**
 * Real agents through the real gateway: Claude Code (default and Bedrock mode), Codex (WebSocket, HTTP, and on Azure OpenAI), Gemini
 * CLI, Claude Code and Gemini CLI in Vertex AI mode, and the official openai SDK on OpenRouter each run one
 * prompt inside `unshare -n` (loopback only) with HTTPS_PROXY at `main.ts serve`, against the fake provider
 * over HTTPS. Each must print the fake's answer, and the fake must have seen the model request with the
 * real provider's Host, i.e. relayed by the gateway. One harness run serves all these tests.
 * Needs the CLIs from `bash scripts/install_agents.sh` (`deno task test` runs it); without them these tests
 * fail, naming that command.
 */
import assert from "node:assert/strict";
import type { ScenarioResult } from "./agents/run_scenario.ts";
import { type CapturedTurn, type HarnessRun, runHarness } from "./agents/harness.ts";
import {
  AZURE_DEPLOYMENT,
  AZURE_HOST,
  BEDROCK_MODEL,
  requireAgents,
  SCENARIO_NAMES,
  type ScenarioName,
} from "./agents/scenarios.ts";
import { AZURE_MODEL, openrouterCost } from "./fake_provider/compat_routes.ts";
import { resolveBehavior } from "./fake_provider/behavior.ts";

const ANSWER = "RECONDO-FAKE-OK";

const RUNNER = new URL("./agents/run_in_netns.ts", import.meta.url).pathname;

/** Turns the gateway captured in the harness runs so far. */
const capturedTurns: CapturedTurn[] = [];

/** Memoizes one harness run shared by several tests. */
function sharedRun(start: () => Promise<HarnessRun>): (name: ScenarioName) => Promise<ScenarioResult> {
  let run: Promise<HarnessRun> | undefined;
  return async (name) => {
    requireAgents();
    run ??= start().then((done) => {
      capturedTurns.push(...done.captured);
      return done;
    });
    const found = (await run).results.get(name);
    assert.ok(found, `the harness printed no result for ${name}`);
    return found;
  };
}

const result = sharedRun(() => runHarness([]));

/** The common verdict, with everything needed to diagnose a failure in the message. */
function assertAnswered(r: ScenarioResult): void {
  const detail = JSON.stringify(r, null, 2);
  assert.equal(r.timedOut, false, `${r.scenario} timed out:\n${detail}`);
  assert.equal(r.exitCode, 0, `${r.scenario} exited with ${r.exitCode}:\n${detail}`);
  assert.ok(r.stdout.includes(ANSWER), `${r.scenario} did not print ${ANSWER}:\n${detail}`);
  assert.deepEqual(r.missing, [], `the fake did not see through the gateway:\n${detail}`);
}

const options = { sanitizeOps: false, sanitizeResources: false };

/** Every model request went to `host`: the real provider's name, kept by the gateway. */
function onlyTo(host: string): (r: ScenarioResult) => void {
  return (r) => assert.ok(r.requests.every((req) => req.host === host), JSON.stringify(r.requests));
}

/** Each scenario must answer (assertAnswered), then pass its own checks. */
const ANSWERED: { scenario: ScenarioName; name: string; check?: (r: ScenarioResult) => void }[] = [
  {
    scenario: "claude-bedrock",
    name: "claude code in Bedrock mode streams InvokeModelWithResponseStream through the gateway",
    check: onlyTo("bedrock-runtime.us-east-1.amazonaws.com"),
  },
  {
    scenario: "claude",
    name: "claude code answers through the gateway with the fake provider's text",
    check: onlyTo("api.anthropic.com"),
  },
  {
    scenario: "codex-ws",
    name: "codex talks Responses over a WebSocket relayed by the gateway",
    check(r) {
      const upgrade = r.requests.find((req) => req.method === "GET" && req.path === "/v1/responses");
      assert.ok(
        upgrade && (upgrade.wsMessages ?? 0) >= 2,
        `prewarm and turn frames: ${JSON.stringify(r.requests)}`,
      );
      // Had the relay failed, Codex would have fallen back to POST /v1/responses.
      assert.ok(
        !r.requests.some((req) => req.method === "POST"),
        `fell back to HTTP: ${JSON.stringify(r.requests)}`,
      );
    },
  },
  {
    scenario: "codex-http",
    name: "codex in HTTP mode streams Responses SSE through the gateway",
    check(r) {
      assert.ok(
        !r.requests.some((req) => req.method === "GET"),
        `no WebSocket expected: ${JSON.stringify(r.requests)}`,
      );
    },
  },
  { scenario: "gemini", name: "gemini cli streams generateContent through the gateway" },
  { scenario: "claude-vertex", name: "claude code in Vertex AI mode streams rawPredict through the gateway" },
  {
    scenario: "gemini-vertex",
    name:
      "gemini cli in Vertex AI mode streams generateContent through the gateway with a metadata-server token",
  },
  {
    scenario: "codex-azure",
    name: "codex with an Azure provider in config.toml answers through the gateway over Responses",
    check: onlyTo(AZURE_HOST),
  },
  {
    scenario: "openrouter-sdk",
    name: "the official openai SDK reaches OpenRouter through the gateway for Chat and Responses",
    check: (r) => assert.match(r.stdout, /chat: RECONDO-FAKE-OK\nresponses: RECONDO-FAKE-OK/),
  },
];

for (const { scenario, name, check } of ANSWERED) {
  Deno.test({
    name,
    ...options,
    async fn() {
      const r = await result(scenario);
      assertAnswered(r);
      check?.(r);
    },
  });
}

/** The fake reports 21 fresh input tokens and 7 output tokens on every model request. */
function assertFakeTokens(turns: CapturedTurn[], message: string): void {
  for (const turn of turns) {
    assert.deepEqual(
      [turn.input_tokens, turn.output_tokens, turn.cache_read_tokens, turn.usage_estimated],
      [21, 7, 0, 0],
      message,
    );
  }
}

Deno.test({
  name: "Vertex AI turns are captured with the model from the path and exactly the fake provider's tokens",
  ...options,
  async fn() {
    for (const name of ["claude-vertex", "gemini-vertex"] as const) await result(name);
    const detail = JSON.stringify(capturedTurns, null, 2);
    for (const model of ["claude-sonnet-4-5@20250929", "gemini-2.5-flash"]) {
      const turns = capturedTurns.filter((t) => t.model === model && t.output_tokens > 0);
      assert.ok(turns.length > 0, `no captured turn of ${model} with output:\n${detail}`);
      assertFakeTokens(turns, `${model}:\n${detail}`);
    }
  },
});

Deno.test({
  name: "Azure and OpenRouter turns carry the fake's tokens, the response's model and OpenRouter's cost",
  ...options,
  async fn() {
    for (const name of ["codex-azure", "openrouter-sdk"] as const) await result(name);
    const detail = JSON.stringify(capturedTurns, null, 2);
    const azure = capturedTurns.filter((t) => t.provider === "azure");
    const openrouter = capturedTurns.filter((t) => t.provider === "openrouter");
    assert.ok(azure.length > 0 && openrouter.length === 2, detail);
    assertFakeTokens([...azure, ...openrouter], detail);
    // The deployment Codex named is kept apart; the model is the one the response reported.
    for (const turn of azure) {
      assert.deepEqual([turn.model, turn.deployment, turn.provider_reported_cost_usd], [
        AZURE_MODEL,
        AZURE_DEPLOYMENT,
        null,
      ], detail);
    }
    const cost = openrouterCost(resolveBehavior());
    assert.deepEqual(openrouter.map((t) => [t.api, t.model, t.provider_reported_cost_usd]), [
      ["openai.chat_completions", "anthropic/claude-sonnet-4.5", cost],
      ["openai.responses", "openai/gpt-5", cost],
    ], detail);
  },
});

Deno.test({
  name: "each agent's model turns are captured with exactly the tokens the fake provider reported",
  ...options,
  async fn() {
    for (const name of ["claude", "claude-bedrock", "codex-ws", "codex-http", "gemini"] as const) {
      await result(name);
    }
    const byApi = new Map<string, CapturedTurn[]>();
    for (const turn of capturedTurns) byApi.set(turn.api, [...(byApi.get(turn.api) ?? []), turn]);
    const detail = JSON.stringify(capturedTurns, null, 2);
    for (
      const api of [
        "anthropic.messages",
        "bedrock.invoke_stream",
        "openai.responses_ws",
        "openai.responses",
        "google.stream_generate",
      ]
    ) {
      const turns = (byApi.get(api) ?? []).filter((t) => t.output_tokens > 0);
      assert.ok(turns.length > 0, `no captured ${api} turn with output:\n${detail}`);
      assertFakeTokens(turns, `${api}:\n${detail}`);
    }
    const bedrock = byApi.get("bedrock.invoke_stream") ?? [];
    assert.ok(bedrock.every((t) => t.model === BEDROCK_MODEL), `priced by the invoked profile:\n${detail}`);
  },
});

/**
 * The second run: proxy authentication required, and a block-list on the authenticated developer's team.
 * Each CLI must send the credentials from HTTPS_PROXY (or the gateway could not know the team) and show
 * the block message. Status 400: Codex retries any other 4xx five times per transport (~13 s over
 * WebSocket, ~7 s over HTTP) before giving up, but stops at once on 400.
 */
const BLOCK_MESSAGE = "RECONDO-BLOCKED for the contractors team";
/** The block-list entry on the enterprise endpoints' providers (first in the chain, so it answers them). */
const PROVIDER_BLOCK_MESSAGE = "RECONDO-BLOCKED: this enterprise endpoint is closed";
const blocked = sharedRun(async () => {
  const configFile = await Deno.makeTempFile({ prefix: "recondo-agents-config-", suffix: ".json" });
  try {
    await Deno.writeTextFile(
      configFile,
      JSON.stringify({
        developers: [{ name: "carol", team: "contractors", token: "carol-proxy-token" }],
        requireProxyAuth: true,
        policies: [
          {
            use: "block-list",
            // Bedrock, Azure and OpenRouter by provider; Vertex (provider anthropic or google) by host.
            options: {
              providers: ["azure", "openrouter", "bedrock"],
              hosts: ["*aiplatform.googleapis.com"],
              status: 400,
              message: PROVIDER_BLOCK_MESSAGE,
            },
          },
          { use: "block-list", options: { teams: ["contractors"], status: 400, message: BLOCK_MESSAGE } },
        ],
      }),
    );
    return await runHarness([
      `--config=${configFile}`,
      "--proxy-auth=carol:carol-proxy-token",
      "--timeout=30",
    ]);
  } finally {
    await Deno.remove(configFile);
  }
});

/**
 * The runner's guard, checked where it must fire: a fresh network namespace given a second interface (a
 * veth pair made inside it, so the test does not depend on the host's interfaces and touches none of them).
 */
Deno.test({
  name: "the agent harness refuses to run outside a loopback-only network namespace",
  async fn() {
    const output = await new Deno.Command("unshare", {
      args: [
        "-n",
        "--",
        "sh",
        "-c",
        'ip link add recondo-a type veth peer name recondo-b && exec "$0" run --allow-all "$1" claude',
        Deno.execPath(),
        RUNNER,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 2, stderr);
    assert.equal(new TextDecoder().decode(output.stdout), "");
    assert.match(stderr, /must run inside 'unshare -n' \(found interfaces recondo-/);
  },
});

/** The scenarios whose provider the first block-list entry closes; every other one meets the team's. */
const PROVIDER_BLOCKED: readonly ScenarioName[] = [
  "codex-azure",
  "openrouter-sdk",
  "claude-bedrock",
  "claude-vertex",
  "gemini-vertex",
];
const BLOCKED = [
  {
    scenarios: SCENARIO_NAMES.filter((name) => !PROVIDER_BLOCKED.includes(name)),
    message: BLOCK_MESSAGE,
    what: "the block message",
    title: (name: string) =>
      `${name} authenticates to the gateway and shows a block-list refusal to the developer`,
  },
  {
    scenarios: PROVIDER_BLOCKED,
    message: PROVIDER_BLOCK_MESSAGE,
    what: "the provider block message",
    title: (name: string) => `${name} shows the block-list entry on its provider to the developer`,
  },
];

for (const { scenarios, message, what, title } of BLOCKED) {
  for (const name of scenarios) {
    Deno.test({
      name: title(name),
      ...options,
      async fn() {
        const r = await blocked(name);
        const detail = JSON.stringify(r, null, 2);
        assert.equal(r.timedOut, false, `${name} timed out:\n${detail}`);
        assert.notEqual(r.exitCode, 0, `${name} should fail when blocked:\n${detail}`);
        assert.ok(
          (r.stdout + r.stderrTail).includes(message),
          `${name} did not show ${what}:\n${detail}`,
        );
        assert.deepEqual(r.requests, [], `a blocked request reached the provider:\n${detail}`);
      },
    });
  }
}
