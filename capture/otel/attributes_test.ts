import assert from "node:assert/strict";
import type { Exchange } from "../../core/exchange.ts";
import type { WrittenRecord } from "../persist_types.ts";
import { buildRecord } from "../record.ts";
import { fakeExchange, fakeParsed, usage } from "../test_exchange.ts";
import { metricOf, providerNameOf, spanOf } from "./attributes.ts";

function written(ex: Exchange, parsed = fakeParsed({ responseId: "msg_1" })): WrittenRecord {
  const record = buildRecord(
    ex,
    parsed,
    { request: new Uint8Array(), response: new Uint8Array() },
    new Uint8Array(32),
  );
  return {
    status: "written",
    exchangeId: ex.id,
    sessionId: "s1",
    turnId: ex.id,
    record,
    costUsd: 0.25,
    repo: "acme/api",
  };
}

Deno.test("a model turn becomes a chat span with GenAI usage, cache tokens and Recondo attributes", () => {
  const ex = fakeExchange();
  const spec = spanOf(
    written(
      ex,
      fakeParsed({
        responseId: "msg_1",
        usage: usage({ input: 10, cacheRead: 100, cacheWrite5m: 7, output: 5 }),
      }),
    ),
    { capturePrompts: false },
  );
  assert.equal(spec.name, "chat claude-sonnet-4-5");
  assert.equal(spec.attributes["gen_ai.usage.input_tokens"], 117);
  assert.equal(spec.attributes["gen_ai.usage.cache_read.input_tokens"], 100);
  assert.equal(spec.attributes["gen_ai.usage.cache_creation.input_tokens"], 7);
  assert.equal(spec.attributes["gen_ai.usage.output_tokens"], 5);
  assert.deepEqual(spec.attributes["gen_ai.response.finish_reasons"], ["end_turn"]);
  assert.equal(spec.attributes["gen_ai.response.id"], "msg_1");
  assert.equal(spec.attributes["recondo.cost_usd"], 0.25);
  assert.equal(spec.attributes["recondo.repo"], "acme/api");
  assert.equal(spec.attributes["recondo.developer"], "alice");
  assert.equal(spec.errorType, null);
  assert.equal(spec.attributes["gen_ai.input.messages"], undefined);
  assert.equal(spec.start.getTime(), ex.timing.start);
});

Deno.test("a blocked exchange carries error.type, the blocking policy and its decisions", () => {
  const at = Date.now();
  const ex = fakeExchange({
    outcome: "blocked",
    response: { status: 400, headers: {} },
    decisions: [
      { policy: "redact", hook: "request", kind: "block", enforced: false, reason: "observe", at },
      { policy: "block-list", hook: "request", kind: "block", enforced: true, reason: "team", at },
    ],
  });
  const spec = spanOf(written(ex, { request: null, response: null }), { capturePrompts: false });
  assert.equal(spec.errorType, "blocked");
  assert.equal(spec.attributes["error.type"], "blocked");
  assert.equal(spec.attributes["recondo.blocked"], true);
  assert.equal(spec.attributes["recondo.blocked_by"], "block-list");
  assert.deepEqual(spec.attributes["recondo.decisions"], [
    "redact:request:block:not-enforced",
    "block-list:request:block",
  ]);
  assert.equal(metricOf(written(ex, { request: null, response: null }))?.errorType, "blocked");
});

Deno.test("capturePrompts adds the prompt and the completion in the GenAI message shapes", () => {
  const spec = spanOf(written(fakeExchange(), fakeParsed({ userText: "fix it", text: "Fixed." })), {
    capturePrompts: true,
  });
  assert.deepEqual(JSON.parse(String(spec.attributes["gen_ai.input.messages"])), [
    { role: "user", parts: [{ type: "text", content: "fix it" }] },
  ]);
  assert.deepEqual(JSON.parse(String(spec.attributes["gen_ai.output.messages"])), [
    { role: "assistant", parts: [{ type: "text", content: "Fixed." }], finish_reason: "end_turn" },
  ]);
});

Deno.test("providers map to the spec's well-known names; auxiliary calls get no GenAI operation", () => {
  assert.equal(providerNameOf("google", "google.stream_generate"), "gcp.gemini");
  assert.equal(providerNameOf("google", "google.code_assist_generate"), "gcp.gen_ai");
  assert.equal(providerNameOf("openai", "openai.responses_ws"), "openai");
  const aux = fakeExchange({
    api: "anthropic.auxiliary",
    request: { method: "GET", path: "/v1/models", headers: {} },
  });
  const spec = spanOf(written(aux, { request: null, response: null }), { capturePrompts: false });
  assert.equal(spec.name, "GET anthropic.auxiliary");
  assert.equal(spec.attributes["gen_ai.operation.name"], undefined);
  assert.equal(metricOf(written(aux, { request: null, response: null })), null);
});

Deno.test("enterprise endpoints get their own provider names, and Bedrock calls are chat operations", () => {
  assert.equal(providerNameOf("bedrock", "bedrock.converse_stream"), "aws.bedrock");
  assert.equal(providerNameOf("azure", "openai.chat_completions"), "azure.ai.openai");
  assert.equal(providerNameOf("openrouter", "openai.responses"), "openrouter");
  assert.equal(
    providerNameOf("google", "anthropic.messages", "us-east5-aiplatform.googleapis.com"),
    "gcp.vertex_ai",
  );
  assert.equal(providerNameOf("google", "google.generate", "aiplatform.googleapis.com"), "gcp.vertex_ai");
  assert.equal(
    providerNameOf("google", "google.generate", "generativelanguage.googleapis.com"),
    "gcp.gemini",
  );
  const bedrock = fakeExchange({
    provider: "bedrock",
    api: "bedrock.invoke_stream",
    target: {
      host: "bedrock-runtime.us-east-1.amazonaws.com",
      port: 443,
      upstreamOrigin: "https://bedrock-runtime.us-east-1.amazonaws.com",
    },
  });
  const spec = spanOf(written(bedrock), { capturePrompts: false });
  assert.equal(spec.attributes["gen_ai.operation.name"], "chat");
  assert.equal(spec.attributes["gen_ai.provider.name"], "aws.bedrock");
  assert.ok(metricOf(written(bedrock)));
});

Deno.test("a WebSocket connection and its warm-up are no model call; each of its turns is one", () => {
  const socket = { kind: "websocket" as const, api: "openai.responses_ws", provider: "openai" as const };
  const connection = fakeExchange({
    ...socket,
    request: { method: "GET", path: "/v1/responses", headers: {} },
  });
  const closed = spanOf(written(connection, { request: null, response: null }), { capturePrompts: false });
  assert.equal(closed.name, "GET openai.responses_ws");
  assert.equal(closed.attributes["gen_ai.operation.name"], undefined);
  assert.equal(metricOf(written(connection, { request: null, response: null })), null);
  const turn = fakeExchange(socket);
  const spec = spanOf(written(turn), { capturePrompts: false });
  assert.equal(spec.attributes["gen_ai.operation.name"], "chat");
  assert.equal(spec.attributes["recondo.kind"], "websocket");
  assert.ok(metricOf(written(turn)));
});
