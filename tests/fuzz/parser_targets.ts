/**
 * Fuzz targets for every wire-format parser in `providers/`: recorded streams (the in-repo fixtures under
 * tests/fixtures/providers and what the fake provider generates) are mutated byte by byte and fed in random
 * chunkings. Properties: nothing throws out of push/end/finish (all are documented as never throwing), and
 * the output keeps its shape (event and result fields of the right types, usage finite).
 * @module
 */
import { SseDecoder } from "../../providers/sse.ts";
import { JsonValueStream } from "../../providers/json_stream.ts";
import { createResponseParser } from "../../providers/response_parser.ts";
import { parseRequest, parseWsClientMessage } from "../../providers/request_parser.ts";
import { createResponsesWsSession } from "../../providers/responses_ws_session.ts";
import type { ApiName, ParsedRequest, ParsedResponse, StreamEvent } from "../../providers/types.ts";
import { fixtureBytes, fixtureLines, RESPONSE_FIXTURES } from "../../providers/_testing.ts";
import { resolveBehavior } from "../fake_provider/behavior.ts";
import { anthropicMessage, anthropicStreamEvents } from "../fake_provider/anthropic_messages.ts";
import { responsesJson, responsesStreamEvents } from "../fake_provider/openai_responses.ts";
import { chatJson, chatStreamEvents } from "../fake_provider/openai_chat.ts";
import { geminiJson, geminiStreamEvents } from "../fake_provider/gemini_generate.ts";
import { encodeSseEvent, type SseEvent as FakeSseEvent } from "../fake_provider/sse.ts";
import type { FuzzTarget, IterationResult } from "./engine.ts";
import { describe } from "./engine.ts";
import { mutate, split } from "./mutate.ts";
import type { Rng } from "./rng.ts";

const encoder = new TextEncoder();

interface StreamSeed {
  api: ApiName;
  contentType: string | null;
  bytes: Uint8Array;
}

function sse(events: FakeSseEvent[], flavor: "lf" | "crlf" = "lf"): Uint8Array {
  return encoder.encode(events.map((e) => encodeSseEvent(e, flavor)).join(""));
}

/** What the fake provider streams for a multi-chunk answer, per API, as SSE and as whole JSON. */
function fakeProviderSeeds(): StreamSeed[] {
  const behavior = resolveBehavior({ answer: ["Hel", "lo ", "wörld ✓"] });
  const SSE = "text/event-stream", JSON_TYPE = "application/json";
  const request = { model: "fuzz-model", stream: true };
  const ids = { response: "resp_fuzz", message: "msg_fuzz" };
  return [
    {
      api: "anthropic.messages",
      contentType: SSE,
      bytes: sse(anthropicStreamEvents(request, behavior, "msg_1")),
    },
    {
      api: "anthropic.messages",
      contentType: JSON_TYPE,
      bytes: encoder.encode(JSON.stringify(anthropicMessage(request, behavior, "msg_1"))),
    },
    { api: "openai.responses", contentType: SSE, bytes: sse(responsesStreamEvents(request, behavior, ids)) },
    {
      api: "openai.responses",
      contentType: JSON_TYPE,
      bytes: encoder.encode(JSON.stringify(responsesJson(request, behavior, ids))),
    },
    {
      api: "openai.chat_completions",
      contentType: SSE,
      bytes: sse(chatStreamEvents({ ...request, stream_options: { include_usage: true } }, behavior, "c1")),
    },
    {
      api: "openai.chat_completions",
      contentType: JSON_TYPE,
      bytes: encoder.encode(JSON.stringify(chatJson(request, behavior, "c1"))),
    },
    {
      api: "google.stream_generate",
      contentType: SSE,
      bytes: sse(geminiStreamEvents("gemini-fuzz", behavior, "r1"), "crlf"),
    },
    {
      api: "google.generate",
      contentType: JSON_TYPE,
      bytes: encoder.encode(JSON.stringify(geminiJson("gemini-fuzz", behavior, "r1"))),
    },
  ];
}

let seedCache: StreamSeed[] | null = null;
function streamSeeds(): StreamSeed[] {
  seedCache ??= [
    ...RESPONSE_FIXTURES.map((f) => ({
      api: f.api,
      contentType: f.contentType,
      bytes: fixtureBytes(f.file),
    })),
    ...fakeProviderSeeds(),
  ];
  return seedCache;
}

/** Picks a seed stream and mutates it (sometimes not at all: the split alone must be harmless too). */
function mutatedStream(rng: Rng): StreamSeed {
  const seed = rng.pick(streamSeeds());
  const bytes = rng.chance(0.1) ? seed.bytes : mutate(seed.bytes, rng, 6);
  // The content type is part of the input too: a JSON body labelled SSE and the reverse happen.
  const contentType = rng.chance(0.1)
    ? rng.pick(["text/event-stream", "application/json", null])
    : seed.contentType;
  return { api: rng.chance(0.05) ? rng.pick(API_NAMES) : seed.api, contentType, bytes };
}

const API_NAMES: ApiName[] = [
  "anthropic.messages",
  "anthropic.count_tokens",
  "openai.chat_completions",
  "openai.responses",
  "openai.responses_ws",
  "google.generate",
  "google.stream_generate",
  "google.code_assist_generate",
  "google.code_assist_stream_generate",
];

/** Runs `fn`, turning a throw into a problem. */
function guarded(problems: string[], what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    problems.push(`${what} threw ${describe(error)}`);
  }
}

// ---- shape checks ---------------------------------------------------------------------------------------

const isStr = (v: unknown) => typeof v === "string";
const isCount = (v: unknown) => typeof v === "number" && Number.isFinite(v);

export function eventProblems(event: StreamEvent): string[] {
  const e = event as unknown as Record<string, unknown>;
  switch (event.type) {
    case "message_start":
      return (e.id === null || isStr(e.id)) && (e.model === null || isStr(e.model))
        ? []
        : ["bad message_start"];
    case "text_delta":
      return isCount(e.index) && isStr(e.text) ? [] : ["bad text_delta"];
    case "thinking_delta":
      return isCount(e.index) && isStr(e.text) && typeof e.redacted === "boolean"
        ? []
        : ["bad thinking_delta"];
    case "tool_call_start":
      return isCount(e.index) && isStr(e.id) && isStr(e.name) ? [] : ["bad tool_call_start"];
    case "tool_call_delta":
      return isCount(e.index) && isStr(e.argumentsDelta) ? [] : ["bad tool_call_delta"];
    case "tool_call_end":
      return isCount(e.index) && isStr(e.id) && isStr(e.name) && isStr(e.arguments)
        ? []
        : ["bad tool_call_end"];
    case "usage":
      return usageProblems(event.usage).map((p) => `usage event: ${p}`);
    case "stop":
      return e.reason === null || isStr(e.reason) ? [] : ["bad stop"];
    case "error":
      return isStr(e.errorType) && isStr(e.message) ? [] : ["bad error event"];
    default:
      return [`unknown event type ${JSON.stringify((event as { type: unknown }).type)}`];
  }
}

function usageProblems(usage: unknown): string[] {
  if (typeof usage !== "object" || usage === null) return ["usage is not an object"];
  const u = usage as Record<string, unknown>;
  const bad = ["input", "cacheRead", "cacheWrite5m", "cacheWrite1h", "output", "reasoning"]
    .filter((k) => !isCount(u[k]));
  return bad.length ? [`usage ${bad.join(", ")} not a finite number`] : [];
}

export function resultProblems(result: ParsedResponse): string[] {
  const problems: string[] = [];
  if (!(result.id === null || isStr(result.id))) problems.push("result.id");
  if (!(result.model === null || isStr(result.model))) problems.push("result.model");
  if (!isStr(result.text) || !isStr(result.thinking)) problems.push("result.text/thinking");
  if (!Array.isArray(result.toolCalls)) problems.push("result.toolCalls");
  else {
    for (const call of result.toolCalls) {
      if (
        !isStr(call.id) || !isStr(call.name) || !isStr(call.arguments) || typeof call.server !== "boolean"
      ) {
        problems.push("result.toolCalls entry");
        break;
      }
    }
  }
  if (!(result.stopReason === null || isStr(result.stopReason))) problems.push("result.stopReason");
  if (result.usage !== null) problems.push(...usageProblems(result.usage));
  if (!Array.isArray(result.errors) || !result.errors.every(isStr)) problems.push("result.errors");
  if (typeof result.partial !== "boolean") problems.push("result.partial");
  try {
    JSON.stringify(result);
  } catch (error) {
    problems.push(`result does not serialise: ${describe(error)}`);
  }
  return problems.map((p) => p.startsWith("usage") ? `result ${p}` : `malformed ${p}`);
}

function requestProblems(request: ParsedRequest): string[] {
  const problems: string[] = [];
  if (!(request.model === null || isStr(request.model))) problems.push("model");
  if (typeof request.stream !== "boolean") problems.push("stream");
  if (!(request.system === null || isStr(request.system))) problems.push("system");
  if (!(request.userText === null || isStr(request.userText))) problems.push("userText");
  if (!Array.isArray(request.toolsOffered) || !request.toolsOffered.every(isStr)) {
    problems.push("toolsOffered");
  }
  if (
    !Array.isArray(request.toolResults) ||
    !request.toolResults.every((r) => isStr(r.callId) && isStr(r.content) && typeof r.isError === "boolean")
  ) problems.push("toolResults");
  if (!(request.maxOutputTokens === null || isCount(request.maxOutputTokens))) {
    problems.push("maxOutputTokens");
  }
  if (!isCount(request.messageCount)) problems.push("messageCount");
  const hints = request.sessionHints;
  if (!hints || !(hints.sessionId === null || isStr(hints.sessionId))) problems.push("sessionHints");
  return problems.map((p) => `malformed request.${p}`);
}

// ---- targets --------------------------------------------------------------------------------------------

function syncTarget(name: string, description: string, iterate: (rng: Rng) => IterationResult): FuzzTarget {
  return {
    name,
    description,
    start: () => Promise.resolve({ iterate, batchSize: 500, close: () => Promise.resolve() }),
  };
}

const sseTarget = syncTarget("sse", "SseDecoder over mutated SSE streams", (rng) => {
  const seed = mutatedStream(rng);
  const decoder = new SseDecoder({ maxLineChars: rng.chance(0.2) ? rng.range(1, 200) : undefined });
  const problems: string[] = [];
  guarded(problems, "SseDecoder", () => {
    const outputs = split(seed.bytes, rng).map((part) => decoder.push(part));
    outputs.push(decoder.end());
    for (const out of outputs) {
      if (!out.events.every((e) => (e.event === null || isStr(e.event)) && isStr(e.data))) {
        problems.push("malformed SSE event");
      }
      if (!out.errors.every(isStr)) problems.push("malformed SSE errors");
    }
  });
  return { input: seed.bytes, problems };
});

const jsonStreamTarget = syncTarget("json-stream", "JsonValueStream over mutated JSON bodies", (rng) => {
  const seed = mutatedStream(rng);
  const stream = new JsonValueStream({ maxValueChars: rng.chance(0.2) ? rng.range(1, 500) : undefined });
  const problems: string[] = [];
  guarded(problems, "JsonValueStream", () => {
    const outputs = split(seed.bytes, rng).map((part) => stream.push(part));
    outputs.push(stream.end());
    for (const out of outputs) {
      if (!out.values.every(isStr) || !out.errors.every(isStr)) problems.push("malformed JSON stream output");
    }
  });
  return { input: seed.bytes, problems };
});

const responseTarget = syncTarget(
  "responses",
  "Anthropic, OpenAI Chat/Responses and Gemini response parsers over mutated streams",
  (rng) => {
    const seed = mutatedStream(rng);
    const problems: string[] = [];
    guarded(problems, `${seed.api} parser`, () => {
      const parser = createResponseParser(seed.api, seed.contentType, {
        requestChars: rng.chance(0.5) ? rng.int(10_000) : undefined,
      });
      for (const part of split(seed.bytes, rng)) {
        for (const event of parser.push(part)) problems.push(...eventProblems(event));
      }
      problems.push(...resultProblems(parser.finish()));
    });
    const api = encoder.encode(`${seed.api}|${seed.contentType}\n`);
    const input = new Uint8Array(api.length + seed.bytes.length);
    input.set(api);
    input.set(seed.bytes, api.length);
    return { input, problems: problems.map((p) => `${seed.api} (${seed.contentType}): ${p}`) };
  },
);

/** Request bodies as the agents send them, one per API shape. */
const REQUEST_SEEDS: { api: ApiName; body: unknown }[] = [
  {
    api: "anthropic.messages",
    body: {
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      stream: true,
      system: [{ type: "text", text: "You are Claude Code." }],
      tools: [{ name: "Bash", input_schema: { type: "object" } }],
      metadata: { user_id: "user_x_account__session_0a1b" },
      messages: [
        { role: "user", content: [{ type: "text", text: "<system-reminder>x</system-reminder>" }, "fix it"] },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "Bash", input: { cmd: "ls" } }],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "a" }] }],
        },
      ],
    },
  },
  {
    api: "openai.chat_completions",
    body: {
      model: "gpt-4o",
      stream: true,
      max_completion_tokens: 100,
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: [{ type: "text", text: "hi" }] },
        { role: "assistant", tool_calls: [{ id: "c1", function: { name: "f", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "c1", content: "ok" },
      ],
      tools: [{ type: "function", function: { name: "f" } }],
    },
  },
  {
    api: "openai.responses",
    body: {
      model: "gpt-5",
      stream: true,
      instructions: "You are Codex.",
      previous_response_id: "resp_1",
      max_output_tokens: 500,
      input: [
        { type: "message", role: "user", content: [{ type: "input_text", text: "run tests" }] },
        { type: "function_call_output", call_id: "call_1", output: "done" },
      ],
      tools: [{ type: "function", name: "shell" }],
      prompt_cache_key: "0a1b",
    },
  },
  {
    api: "google.stream_generate",
    body: {
      systemInstruction: { parts: [{ text: "be brief" }] },
      contents: [
        { role: "user", parts: [{ text: "hi" }] },
        { role: "model", parts: [{ functionCall: { name: "f", args: {} } }] },
        { role: "user", parts: [{ functionResponse: { name: "f", response: { ok: true } } }] },
      ],
      tools: [{ functionDeclarations: [{ name: "f" }] }],
      generationConfig: { maxOutputTokens: 64 },
    },
  },
  {
    api: "google.code_assist_stream_generate",
    body: {
      model: "gemini-2.5-pro",
      project: "p",
      user_prompt_id: "u1",
      request: { contents: [{ role: "user", parts: [{ text: "hi" }] }], session_id: "s1" },
    },
  },
];

const requestTarget = syncTarget("requests", "request parsers (and WebSocket client messages)", (rng) => {
  const seed = rng.pick(REQUEST_SEEDS);
  const api = rng.chance(0.1) ? rng.pick(API_NAMES) : seed.api;
  const body = mutate(encoder.encode(JSON.stringify(seed.body)), rng, 6);
  const headers: Record<string, string> = rng.chance(0.5)
    ? { "x-claude-code-session-id": "s", session_id: "t" }
    : {};
  const problems: string[] = [];
  guarded(
    problems,
    `parseRequest(${api})`,
    () => problems.push(...requestProblems(parseRequest(api, body, headers))),
  );
  guarded(problems, "parseWsClientMessage", () => {
    const text = new TextDecoder().decode(body).replace(/^\{/, '{"type":"response.create",');
    const parsed = parseWsClientMessage(text, headers);
    if (parsed) problems.push(...requestProblems(parsed));
  });
  return { input: body, problems: problems.map((p) => `${api}: ${p}`) };
});

const wsSessionTarget = syncTarget(
  "ws-session",
  "the Responses WebSocket session over mutated messages",
  (rng) => {
    const server = fixtureLines("openai_responses/ws_session.jsonl");
    const client = [
      JSON.stringify({ type: "response.create", model: "gpt-5", generate: false, input: [] }),
      JSON.stringify({ type: "response.create", model: "gpt-5", input: "run the marker command" }),
    ];
    const session = createResponsesWsSession(rng.chance(0.5) ? { session_id: "s1" } : {});
    const messages: string[] = [];
    const problems: string[] = [];
    guarded(problems, "ResponsesWsSession", () => {
      const script = [client[0], ...server.slice(0, 2), client[1], ...server.slice(2)].map((m, i) => ({
        fromClient: m === client[0] || m === client[1] ? true : false,
        text: m,
        i,
      }));
      for (const step of script) {
        if (rng.chance(0.05)) continue; // a lost message
        const mutated = rng.chance(0.3)
          ? new TextDecoder().decode(mutate(encoder.encode(step.text), rng))
          : step.text;
        messages.push(mutated);
        if (step.fromClient) {
          const parsed = session.client(mutated);
          if (parsed) problems.push(...requestProblems(parsed));
        } else {
          const message = rng.chance(0.2) ? encoder.encode(mutated) : mutated;
          const { events, completed } = session.server(message);
          for (const event of events) problems.push(...eventProblems(event));
          if (completed) problems.push(...resultProblems(completed.response));
        }
      }
      const last = session.close();
      if (last) problems.push(...resultProblems(last.response));
    });
    return { input: encoder.encode(messages.join("\n")), problems };
  },
);

export const PARSER_TARGETS: FuzzTarget[] = [
  sseTarget,
  jsonStreamTarget,
  responseTarget,
  requestTarget,
  wsSessionTarget,
];
