import assert from "node:assert/strict";
import { CLIENT_FIXTURES, clientExchange, clientWsMessages, lowerHeaders } from "./_testing.ts";
import { parseRequest, parseWsClientMessage } from "./request_parser.ts";
import type { ApiName, ParsedRequest } from "./types.ts";

const encoder = new TextEncoder();

/** Parses a recorded request from tests/fixtures/clients/, passing its body as the bytes the proxy reads. */
function recorded(api: ApiName, path: string): ParsedRequest {
  const exchange = clientExchange(path);
  return parseRequest(api, encoder.encode(JSON.stringify(exchange.body)), lowerHeaders(exchange.headers));
}

/** A request header of a recorded exchange (names compared without case). */
function recordedHeader(path: string, name: string): string | undefined {
  return lowerHeaders(clientExchange(path).headers)[name];
}

/** The one recorded file of a run whose name ends with `suffix` (numbers depend on the clients' order). */
function recordedFile(run: string, suffix: string): string {
  const names = [...Deno.readDirSync(new URL(`${run}/`, CLIENT_FIXTURES))].map((e) => e.name)
    .filter((name) => name.endsWith(suffix));
  assert.equal(names.length, 1, `one ${suffix} in ${run}: ${names.join(", ")}`);
  return `${run}/${names[0]}`;
}

Deno.test("Claude Code's first turn: the typed prompt without its system-reminder preambles", () => {
  const request = recorded("anthropic.messages", "claude-code/claude/003-api.anthropic.com_v1_messages.json");
  assert.equal(request.userText, "FAKE_TOOL: run the marker command");
  assert.equal(request.model, "claude-sonnet-4-5");
  assert.equal(request.stream, true);
  assert.equal(request.maxOutputTokens, 32000);
  assert.equal(request.messageCount, 1);
  assert.deepEqual(request.toolResults, []);
  assert.ok(
    request.toolsOffered.includes("Bash") && request.toolsOffered.includes("Write"),
    request.toolsOffered.join(),
  );
  const sessionId = recordedHeader(
    "claude-code/claude/003-api.anthropic.com_v1_messages.json",
    "x-claude-code-session-id",
  );
  assert.ok(sessionId, "Claude Code sends its session id as a header too");
  assert.deepEqual(request.sessionHints, { sessionId, previousResponseId: null });
  assert.ok(
    request.system?.startsWith("You are a Claude agent"),
    "the billing header block is not the system prompt",
  );
});

Deno.test("Claude Code's tool-result turn returns the result without the reminder appended to it", () => {
  const request = recorded("anthropic.messages", "claude-code/claude/004-api.anthropic.com_v1_messages.json");
  // The id the fake gave its Bash call, as Claude Code sent it back in the assistant turn.
  const toolUseId = (clientExchange("claude-code/claude/004-api.anthropic.com_v1_messages.json").body as {
    messages: { content: { type: string; id?: string }[] | string }[];
  }).messages.flatMap((m) => typeof m.content === "string" ? [] : m.content).find((b) =>
    b.type === "tool_use"
  )
    ?.id;
  assert.match(String(toolUseId), /^toolu_/);
  assert.equal(request.userText, null);
  assert.deepEqual(request.toolResults, [{
    callId: toolUseId,
    content: "tool-ran",
    isError: false,
  }]);
  assert.equal(request.messageCount, 3);
});

Deno.test("the trailing role:system message Claude Code appends is skipped", () => {
  const file = recordedFile("claude-code/claude-2.1.332-default", "-api.anthropic.com_v1_messages.json");
  const request = recorded("anthropic.messages", file);
  assert.equal(request.userText, "say hi");
  assert.equal(request.maxOutputTokens, 128000);
  assert.equal(request.sessionHints.sessionId, recordedHeader(file, "x-claude-code-session-id"));
});

Deno.test("the session id comes from the header when metadata has none, and from older user_id strings", () => {
  const body = { model: "claude-haiku-4-5", messages: [{ role: "user", content: "hello" }], max_tokens: 10 };
  assert.equal(
    parseRequest("anthropic.messages", body, { "X-Claude-Code-Session-Id": "from-header" }).sessionHints
      .sessionId,
    "from-header",
  );
  const old = {
    ...body,
    metadata: { user_id: "user_ab12_account_cd34_session_0f1e2d3c-aaaa-bbbb-cccc-123456789abc" },
  };
  assert.equal(
    parseRequest("anthropic.messages", old, {}).sessionHints.sessionId,
    "0f1e2d3c-aaaa-bbbb-cccc-123456789abc",
  );
  assert.equal(parseRequest("anthropic.messages", body, {}).userText, "hello");
});

Deno.test("Codex over HTTP: the prompt without <environment_context>, the session from its header", () => {
  const request = recorded("openai.responses", "codex/codex-http/001-api.openai.com_v1_responses.json");
  assert.equal(request.userText, "FAKE_TOOL: run the marker command");
  assert.equal(request.model, "gpt-5");
  const sessionId = recordedHeader("codex/codex-http/001-api.openai.com_v1_responses.json", "session-id");
  assert.ok(sessionId, "Codex sends its session id as a header");
  assert.equal(request.sessionHints.sessionId, sessionId);
  assert.ok(request.system?.startsWith("You are a coding agent running in the Codex CLI"));
  assert.ok(request.toolsOffered.includes("exec_command"));
  assert.equal(request.prewarm, undefined);
});

Deno.test("Codex's tool turn returns the function output and has no new user text", () => {
  const request = recorded("openai.responses", "codex/codex-http/002-api.openai.com_v1_responses.json");
  assert.equal(request.userText, null);
  assert.equal(request.toolResults.length, 1);
  const input = (clientExchange("codex/codex-http/002-api.openai.com_v1_responses.json").body as {
    input: { type: string; call_id?: string }[];
  }).input;
  const call = input.find((item) => item.type === "function_call");
  assert.match(String(call?.call_id), /^call_/);
  assert.equal(request.toolResults[0].callId, call?.call_id);
  assert.match(request.toolResults[0].content, /tool-ran/);
});

Deno.test("Codex's WebSocket messages: a warm-up, the turn, and a tool result chained by previous_response_id", () => {
  const upgrade = clientExchange("codex/codex/001-api.openai.com_v1_responses.json");
  const headers = lowerHeaders(upgrade.headers);
  const lines = clientWsMessages("codex/codex");
  const [warm, turn, tool] = lines.map((line) => parseWsClientMessage(line, headers));
  assert.equal(warm?.prewarm, true);
  assert.equal(turn?.prewarm, undefined);
  assert.equal(turn?.userText, "FAKE_TOOL: run the marker command");
  assert.ok(headers["session-id"], "the recorded upgrade carries Codex's session-id header");
  assert.equal(turn?.sessionHints.sessionId, headers["session-id"]);
  const raw = JSON.parse(lines[2]) as { previous_response_id: string; input: { call_id?: string }[] };
  assert.match(raw.previous_response_id, /^resp_/);
  assert.deepEqual(tool?.sessionHints.previousResponseId, raw.previous_response_id);
  assert.match(String(raw.input[0]?.call_id), /^call_/);
  assert.equal(tool?.toolResults[0]?.callId, raw.input[0]?.call_id);
  assert.equal(parseWsClientMessage('{"type":"response.cancel"}', headers), null);
  assert.equal(parseWsClientMessage("not json", headers), null);
});

Deno.test("Gemini CLI: the prompt without <session_context>, then a function response turn", () => {
  const first = recorded(
    "google.stream_generate",
    "gemini-cli/gemini/001-generativelanguage.googleapis.com_v1beta_models_gemini-2.5-flash_streamGenerateC.json",
  );
  assert.equal(first.userText, "FAKE_TOOL: run the marker command");
  assert.equal(first.stream, true);
  assert.equal(first.model, null, "a Gemini model is named by the URL");
  assert.ok(first.toolsOffered.includes("list_directory"));
  assert.ok(first.system?.startsWith("You are a non-interactive CLI agent"));
  const second = recorded(
    "google.stream_generate",
    "gemini-cli/gemini/002-generativelanguage.googleapis.com_v1beta_models_gemini-2.5-flash_streamGenerateC.json",
  );
  assert.equal(second.userText, null);
  const [callId, content] = [second.toolResults[0]?.callId, second.toolResults[0]?.content];
  assert.match(String(callId), /^list_directory_\d+_0$/);
  assert.match(String(content), /^\{"output":"Directory \/.*\/project is empty\."\}$/);
  assert.deepEqual(second.toolResults, [{ callId, content, isError: false }]);
});

Deno.test("Claude Code on Vertex AI: Messages without a model in the body, its prompt and session", () => {
  const file = recordedFile("claude-code/claude-vertex", "_p.json");
  const body = clientExchange(file).body as Record<string, unknown>;
  assert.equal(body.anthropic_version, "vertex-2023-10-16");
  assert.equal("model" in body, false, "Vertex names the model in the path");
  const parsed = recorded("anthropic.messages", file);
  assert.equal(parsed.model, null);
  assert.equal(parsed.stream, true);
  assert.equal(parsed.userText, "say hi");
  assert.equal(parsed.sessionHints.sessionId, recordedHeader(file, "x-claude-code-session-id"));
});

Deno.test("Gemini CLI on Vertex AI sends the Gemini body it sends to the Gemini API: prompt, then tool result", () => {
  const [first, second] = ["001-", "002-"].map((prefix) => {
    const names = [...Deno.readDirSync(new URL("gemini-cli/gemini-vertex/", CLIENT_FIXTURES))]
      .map((e) => e.name).filter((name) => name.startsWith(prefix));
    return recorded("google.stream_generate", `gemini-cli/gemini-vertex/${names[0]}`);
  });
  assert.equal(first.userText, "FAKE_TOOL: run the marker command");
  assert.ok(first.toolsOffered.includes("list_directory"));
  assert.equal(second.userText, null);
  assert.match(String(second.toolResults[0]?.callId), /^list_directory_\d+_0$/);
});

Deno.test("Gemini CLI's router call is a generateContent turn with the typed prompt", () => {
  const request = recorded(
    "google.generate",
    "gemini-cli/gemini-1/003-generativelanguage.googleapis.com_v1beta_models_gemini-3.5-flash-lite_generateCo.json",
  );
  assert.equal(request.userText, "say hi");
  assert.equal(request.stream, false);
});

Deno.test("a Code Assist body is unwrapped, with its model and session id", () => {
  const body = {
    model: "gemini-2.5-pro",
    project: "proj-1",
    user_prompt_id: "prompt-1",
    request: {
      contents: [{ role: "user", parts: [{ text: "refactor util.ts" }] }],
      systemInstruction: { role: "user", parts: [{ text: "Be brief." }] },
      tools: [{ functionDeclarations: [{ name: "read_file" }] }, { googleSearch: {} }],
      generationConfig: { maxOutputTokens: 8192 },
      session_id: "sess-ca-1",
    },
  };
  assert.deepEqual(parseRequest("google.code_assist_stream_generate", body, {}), {
    model: "gemini-2.5-pro",
    stream: true,
    system: "Be brief.",
    userText: "refactor util.ts",
    toolsOffered: ["read_file", "googleSearch"],
    toolResults: [],
    maxOutputTokens: 8192,
    sessionHints: { sessionId: "sess-ca-1", previousResponseId: null },
    messageCount: 1,
  });
});

Deno.test("SDK requests: Chat Completions messages and a Responses string input", () => {
  const chat = recorded("openai.chat_completions", "sdk/sdk/005-api.openai.com_v1_chat_completions.json");
  assert.equal(chat.userText, "hi");
  assert.equal(chat.model, "gpt-4o");
  const responses = recorded("openai.responses", "sdk/sdk/003-api.openai.com_v1_responses.json");
  assert.equal(responses.userText, "hi");
  assert.equal(responses.messageCount, 1);
});

Deno.test("Chat Completions tool messages after the assistant's call are this turn's tool results", () => {
  const body = {
    model: "gpt-4.1",
    max_completion_tokens: 500,
    messages: [
      { role: "system", content: "sys" },
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        tool_calls: [{ id: "call_1", type: "function", function: { name: "w", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "call_1", content: [{ type: "text", text: "sunny" }] },
    ],
    tools: [{ type: "function", function: { name: "w" } }],
  };
  const request = parseRequest("openai.chat_completions", body, {});
  assert.equal(request.userText, null);
  assert.equal(request.system, "sys");
  assert.equal(request.maxOutputTokens, 500);
  assert.deepEqual(request.toolsOffered, ["w"]);
  assert.deepEqual(request.toolResults, [{ callId: "call_1", content: "sunny", isError: false }]);
});

Deno.test("bodies that are not JSON objects give an empty result that says why", () => {
  assert.match(
    parseRequest("anthropic.messages", encoder.encode("{oops"), {}).error ?? "",
    /^request body is not JSON/,
  );
  assert.equal(
    parseRequest("anthropic.messages", encoder.encode("[1]"), {}).error,
    "request body is not a JSON object (got array)",
  );
  assert.equal(parseRequest("openai.responses", new Uint8Array(), {}).error, "request body is empty");
  const odd = parseRequest("anthropic.messages", { messages: "nope", tools: 3, system: 7 }, {});
  assert.equal(odd.error, undefined);
  assert.equal(odd.userText, null);
  assert.equal(parseRequest("anthropic.auxiliary", { a: 1 }, {}).model, null);
});
