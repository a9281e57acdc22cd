/**
 * OpenTelemetry export with a real client: Claude Code runs through `main.ts serve` (inside `unshare -n`,
 * as in agents_test.ts) with `otel.endpoint` on a stand-in collector that keeps each OTLP/HTTP request
 * (`tests/agents/otlp_dump.ts`); this test decodes them with the official protobuf definitions
 * (`tests/support/otlp.ts`). Every exchange the provider saw must arrive as one span with the GenAI and
 * Recondo attributes, the GenAI client metrics must add up to the captured turns, and prompts and
 * completions must be absent unless `otel.capturePrompts` is on. Needs the CLIs (scripts/install_agents.sh).
 */
import assert from "node:assert/strict";
import { runHarness } from "./agents/harness.ts";
import type { HarnessRun } from "./agents/harness.ts";
import { OTLP_DUMP_PORT } from "./agents/otlp_dump.ts";
import { requireAgents } from "./agents/scenarios.ts";
import { type DecodedHistogramPoint, type DecodedSpan, decodeDumpDir } from "./support/otlp.ts";
import { detectApi } from "../providers/detect.ts";

const PROMPT = "Reply with the single word OK.";
const ANSWER = "RECONDO-FAKE-OK";

interface OtelRun {
  run: HarnessRun;
  spans: DecodedSpan[];
  /** The last metrics export (cumulative: it holds every point so far). */
  histograms: DecodedHistogramPoint[];
}

async function claudeWithOtel(capturePrompts: boolean): Promise<OtelRun> {
  return await agentWithOtel("claude", capturePrompts);
}

/** Runs one agent scenario as developer dana (team platform) with OTLP export on; decodes what arrived. */
async function agentWithOtel(scenario: "claude" | "codex-ws", capturePrompts: boolean): Promise<OtelRun> {
  const work = await Deno.makeTempDir({ prefix: "recondo-otel-agents-" });
  try {
    const configFile = `${work}/recondo.json`;
    const dump = `${work}/otlp`;
    await Deno.mkdir(dump);
    await Deno.writeTextFile(
      configFile,
      JSON.stringify({
        developers: [{ name: "dana", team: "platform", token: "dana-proxy-token" }],
        requireProxyAuth: true,
        // A policy that allows everything: its decisions must show up on every span.
        policies: [{ use: "block-list", options: { teams: ["contractors"] } }],
        otel: { endpoint: `http://127.0.0.1:${OTLP_DUMP_PORT}`, exportIntervalMs: 200, capturePrompts },
      }),
    );
    const run = await runHarness([
      scenario,
      `--config=${configFile}`,
      "--proxy-auth=dana:dana-proxy-token",
      `--otlp-dump=${dump}`,
      "--timeout=60",
    ]);
    const { spans, histograms } = await decodeDumpDir(dump);
    return { run, spans, histograms: histograms.at(-1) ?? [] };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

const runs = new Map<boolean, Promise<OtelRun>>();
function otelRun(capturePrompts: boolean): Promise<OtelRun> {
  let run = runs.get(capturePrompts);
  if (!run) runs.set(capturePrompts, run = claudeWithOtel(capturePrompts));
  return run;
}

const options = { sanitizeOps: false, sanitizeResources: false };

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

Deno.test({
  name:
    "every exchange of a Claude Code run arrives at the collector as a GenAI span with Recondo's attributes",
  ...options,
  async fn() {
    requireAgents();
    const { run, spans } = await otelRun(false);
    const claude = run.results.get("claude");
    assert.ok(claude?.ok, `Claude Code failed: ${JSON.stringify(claude, null, 2)}`);
    const detail = JSON.stringify(spans, null, 2);

    // One span per exchange: as many, per API, as the provider received requests.
    const requests = claude.requests.map((r) => detectApi(r.host, r.method, r.path)?.api ?? "unknown");
    assert.ok(requests.length > 0);
    assert.deepEqual(
      countBy(spans, (s) => String(s.attributes["recondo.api"])),
      countBy(requests, (a) => a),
      detail,
    );

    for (const span of spans) {
      assert.equal(span.kind, "SPAN_KIND_CLIENT");
      assert.equal(span.resource["service.name"], "recondo");
      assert.ok(span.endMs >= span.startMs && span.startMs > Date.now() - 600_000, `times of ${span.name}`);
      assert.equal(span.attributes["server.address"], "api.anthropic.com");
      assert.equal(span.attributes["gen_ai.provider.name"], "anthropic");
      assert.equal(span.attributes["gen_ai.system"], "anthropic");
      assert.equal(span.attributes["recondo.developer"], "dana");
      assert.equal(span.attributes["recondo.team"], "platform");
      assert.equal(span.attributes["recondo.blocked"], false);
      assert.ok(
        (span.attributes["recondo.decisions"] as string[]).includes("block-list:request:allow"),
        `decisions of ${span.name}: ${span.attributes["recondo.decisions"]}`,
      );
      assert.equal(span.attributes["gen_ai.input.messages"], undefined, "prompts are off by default");
      assert.equal(span.attributes["gen_ai.output.messages"], undefined, "completions are off by default");
    }

    // Model calls: the GenAI attributes, matching what capture stored for each turn.
    const chats = spans.filter((s) => s.attributes["gen_ai.operation.name"] === "chat");
    // Capture keeps a turn row for auxiliary calls too (model lists, quota checks); the model calls are these.
    const turns = run.captured.filter((t) => t.api === "anthropic.messages");
    assert.ok(turns.length > 0);
    assert.equal(chats.length, turns.length, detail);
    const fromSpans = chats.map((s) => ({
      model: s.attributes["gen_ai.response.model"],
      output: s.attributes["gen_ai.usage.output_tokens"],
      cacheRead: s.attributes["gen_ai.usage.cache_read.input_tokens"],
    }));
    const fromTurns = turns.map((t) => ({
      model: t.model,
      output: t.output_tokens,
      cacheRead: t.cache_read_tokens,
    }));
    const order = (a: { model: unknown; output: unknown }) => `${a.model}/${a.output}`;
    assert.deepEqual(
      fromSpans.sort((a, b) => order(a).localeCompare(order(b))),
      fromTurns.sort((a, b) => order(a).localeCompare(order(b))),
    );
    for (const s of chats) {
      const model = s.attributes["gen_ai.request.model"];
      assert.equal(typeof model, "string");
      assert.equal(s.name, `chat ${s.attributes["gen_ai.response.model"]}`);
      assert.match(String(s.attributes["gen_ai.response.id"]), /\S/);
      assert.ok((s.attributes["gen_ai.response.finish_reasons"] as string[]).length === 1);
      assert.ok((s.attributes["gen_ai.usage.input_tokens"] as number) > 0);
      assert.ok((s.attributes["gen_ai.usage.output_tokens"] as number) > 0);
      assert.match(String(s.attributes["recondo.session.id"]), /\S/);
      assert.equal(s.attributes["recondo.turn.id"], s.attributes["recondo.exchange.id"]);
      assert.equal(s.attributes["gen_ai.conversation.id"], s.attributes["recondo.session.id"]);
      assert.equal(typeof s.attributes["recondo.cost_usd"], "number");
      assert.equal(s.status.code, "STATUS_CODE_UNSET");
    }
  },
});

Deno.test({
  name: "the GenAI client metrics of a Claude Code run add up to its captured turns",
  ...options,
  async fn() {
    requireAgents();
    const { run, spans, histograms } = await otelRun(false);
    const tokens = histograms.filter((p) => p.metric === "gen_ai.client.token.usage");
    assert.ok(tokens.length >= 2, `no token usage points in ${JSON.stringify(histograms)}`);
    assert.ok(tokens.every((p) => p.unit === "{token}"));
    const sum = (type: string) =>
      tokens.filter((p) => p.attributes["gen_ai.token.type"] === type).reduce((n, p) => n + p.sum, 0);
    const captured = (f: (t: HarnessRun["captured"][number]) => number) =>
      run.captured.reduce((n, t) => n + f(t), 0);
    assert.ok(sum("output") > 0);
    assert.equal(sum("output"), captured((t) => t.output_tokens));
    assert.ok(sum("input") >= captured((t) => t.input_tokens + t.cache_read_tokens));
    for (const p of tokens) assert.equal(p.attributes["gen_ai.provider.name"], "anthropic");

    const durations = histograms.filter((p) => p.metric === "gen_ai.client.operation.duration");
    assert.ok(durations.length > 0 && durations.every((p) => p.unit === "s"));
    const modelCalls = spans.filter((s) => s.attributes["gen_ai.operation.name"] !== undefined).length;
    assert.equal(durations.reduce((n, p) => n + p.count, 0), modelCalls);
  },
});

Deno.test({
  name: "with otel.capturePrompts the spans carry the prompt and the completion",
  ...options,
  async fn() {
    requireAgents();
    const { run, spans } = await otelRun(true);
    assert.ok(run.results.get("claude")?.ok);
    const chats = spans.filter((s) => s.attributes["gen_ai.operation.name"] === "chat");
    const inputs = chats.map((s) => JSON.parse(String(s.attributes["gen_ai.input.messages"] ?? "[]")));
    const outputs = chats.map((s) => JSON.parse(String(s.attributes["gen_ai.output.messages"] ?? "[]")));
    assert.ok(
      inputs.some((m) => m[0]?.role === "user" && m[0].parts[0].content.includes(PROMPT)),
      JSON.stringify(inputs),
    );
    assert.ok(
      outputs.some((m) =>
        m[0]?.role === "assistant" && m[0].parts.some((p: { content?: string }) => p.content === ANSWER)
      ),
      JSON.stringify(outputs),
    );
  },
});

Deno.test({
  name:
    "each model turn of a Codex WebSocket session arrives as its own GenAI span, the connection as one more",
  ...options,
  async fn() {
    requireAgents();
    const { run, spans } = await agentWithOtel("codex-ws", false);
    const codex = run.results.get("codex-ws");
    assert.ok(codex?.ok, `Codex failed: ${JSON.stringify(codex, null, 2)}`);
    const detail = JSON.stringify(spans.map((s) => [s.name, s.attributes]), null, 2);
    const onSocket = spans.filter((s) => s.attributes["recondo.api"] === "openai.responses_ws");
    const turns = onSocket.filter((s) =>
      s.attributes["gen_ai.operation.name"] === "chat" && s.attributes["recondo.turn.id"]
    );
    const captured = run.captured.filter((t) => t.api === "openai.responses_ws");
    assert.ok(captured.length > 0, JSON.stringify(run.captured));
    assert.equal(turns.length, captured.length, `one span per captured turn:\n${detail}`);
    assert.deepEqual(
      turns.map((s) => s.attributes["gen_ai.usage.output_tokens"]).sort(),
      captured.map((t) => t.output_tokens).sort(),
      detail,
    );
    for (const s of turns) {
      assert.equal(s.attributes["recondo.kind"], "websocket");
      assert.equal(s.attributes["gen_ai.provider.name"], "openai");
      assert.equal(s.attributes["recondo.developer"], "dana");
      assert.equal(s.attributes["recondo.team"], "platform");
      assert.match(String(s.attributes["gen_ai.response.id"]), /\S/);
      assert.equal(s.name, `chat ${s.attributes["gen_ai.response.model"]}`);
      assert.equal(s.attributes["gen_ai.conversation.id"], s.attributes["recondo.session.id"]);
    }
    const ids = new Set(turns.map((s) => s.attributes["recondo.exchange.id"]));
    assert.equal(ids.size, turns.length, "every turn span is its own exchange");
    // The connection (and Codex's warm-up on it) arrive too, as spans that are no model call.
    const others = onSocket.filter((s) => !turns.includes(s));
    assert.ok(others.some((s) => s.name === "GET openai.responses_ws"), detail);
    assert.ok(others.every((s) => s.attributes["gen_ai.operation.name"] === undefined), detail);
  },
});
