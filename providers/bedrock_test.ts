import assert from "node:assert/strict";
import {
  type ClientExchange,
  clientExchange,
  clientExchangeFiles,
  fixtureBytes,
  lowerHeaders,
  parseBytes,
  usageOf,
} from "./_testing.ts";
import { encodeEventStreamMessage, EventStreamDecoder } from "./bedrock_event_stream.ts";
import { detectApi } from "./detect.ts";
import { eventStreamErrorFrame, providerErrorResponse } from "./errors.ts";
import { priceUsage } from "./pricing.ts";
import { parseRequest } from "./request_parser.ts";
import { createResponseParser } from "./response_parser.ts";

const EVENT_STREAM = "application/vnd.amazon.eventstream";
const PROFILE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

Deno.test("Bedrock runtime paths are detected with the URL-encoded model id decoded", () => {
  const host = "bedrock-runtime.us-east-1.amazonaws.com";
  const encoded = encodeURIComponent(PROFILE);
  assert.deepEqual(detectApi(host, "POST", `/model/${encoded}/invoke-with-response-stream`), {
    provider: "bedrock",
    api: "bedrock.invoke_stream",
    isModelTurn: true,
    pathModel: PROFILE,
  });
  assert.equal(detectApi(host, "POST", `/model/${encoded}/invoke`)?.api, "bedrock.invoke");
  assert.equal(detectApi(host, "POST", `/model/${encoded}/converse`)?.api, "bedrock.converse");
  assert.equal(
    detectApi(`${host}:443`, "POST", `/model/${encoded}/converse-stream`)?.api,
    "bedrock.converse_stream",
  );
  assert.equal(
    detectApi("bedrock-runtime-fips.us-west-2.amazonaws.com", "POST", `/model/x/invoke`)?.provider,
    "bedrock",
  );
  const arn = encodeURIComponent(`arn:aws:bedrock:us-east-1:123456789012:inference-profile/${PROFILE}`);
  assert.equal(detectApi(host, "POST", `/model/${arn}/converse`)?.pathModel, PROFILE);
  const foundation = `arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0`;
  assert.equal(
    detectApi(host, "POST", `/model/${encodeURIComponent(foundation)}/invoke`)?.pathModel,
    "anthropic.claude-sonnet-4-5-20250929-v1:0",
  );
  // An application inference profile is an opaque resource id, no model: the answer's model is the turn's.
  const app = encodeURIComponent(
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6",
  );
  assert.equal(detectApi(host, "POST", `/model/${app}/invoke`)?.pathModel, null);
  assert.equal(detectApi(host, "POST", `/model/${app}/invoke`)?.api, "bedrock.invoke");
  assert.deepEqual(detectApi(host, "POST", `/model/${encoded}/count-tokens`), {
    provider: "bedrock",
    api: "bedrock.auxiliary",
    isModelTurn: false,
    pathModel: null,
  });
  assert.equal(detectApi(host, "GET", `/model/${encoded}/invoke`)?.isModelTurn, false);
  assert.equal(detectApi("bedrock.us-east-1.amazonaws.com", "POST", `/model/${encoded}/invoke`), null);
  assert.equal(detectApi("s3.amazonaws.com", "POST", "/"), null);
});

Deno.test("an InvokeModelWithResponseStream answer gives Claude's text, exact usage and the invoked id", () => {
  const { result, events } = parseBytes(
    "bedrock.invoke_stream",
    EVENT_STREAM,
    fixtureBytes("bedrock/invoke_stream_text.eventstream"),
    [],
    { pathModel: PROFILE },
  );
  assert.equal(result.text, "Hello from Bedrock — ünïcode ✓");
  assert.equal(result.model, PROFILE);
  assert.equal(result.id, "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL");
  assert.equal(result.stopReason, "end_turn");
  assert.deepEqual(result.usage, usageOf({ input: 12, cacheWrite5m: 2048, cacheRead: 4096, output: 27 }));
  assert.equal(result.partial, false);
  assert.deepEqual(result.errors, []);
  assert.deepEqual(events[0], {
    type: "message_start",
    id: "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL",
    model: PROFILE,
  });
});

Deno.test("thinking and a tool call arrive through Bedrock chunks as through Anthropic's SSE", () => {
  const { result } = parseBytes(
    "bedrock.invoke_stream",
    EVENT_STREAM,
    fixtureBytes("bedrock/invoke_stream_tool.eventstream"),
  );
  assert.equal(result.thinking, "Read the file.");
  assert.deepEqual(result.toolCalls, [{
    id: "toolu_bdrk_01A",
    name: "Read",
    arguments: '{"file_path":"a.ts"}',
    server: false,
  }]);
  assert.deepEqual(result.usage, usageOf({ input: 420, output: 88 }));
  assert.equal(result.model, "claude-sonnet-4-5-20250929", "without a path model Claude's own name stays");
});

Deno.test("an exception frame mid-stream is the provider's error and ends the response", () => {
  const { result, events } = parseBytes(
    "bedrock.invoke_stream",
    EVENT_STREAM,
    fixtureBytes("bedrock/invoke_stream_exception.eventstream"),
  );
  assert.equal(result.text, "Partial");
  assert.deepEqual(result.errors, ["throttlingException: Too many tokens, please wait before trying again."]);
  assert.equal(result.partial, true);
  assert.deepEqual(events.at(-1), {
    type: "error",
    errorType: "throttlingException",
    message: "Too many tokens, please wait before trying again.",
  });
});

Deno.test("ConverseStream gives reasoning, text, a tool call and usage with cache reads and writes", () => {
  const { result } = parseBytes(
    "bedrock.converse_stream",
    EVENT_STREAM,
    fixtureBytes("bedrock/converse_stream.eventstream"),
    [],
    { pathModel: PROFILE },
  );
  assert.equal(result.thinking, "The user wants a list.");
  assert.equal(result.text, "Listing files.");
  assert.deepEqual(result.toolCalls, [
    { id: "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", name: "ls", arguments: '{"path":"."}', server: false },
  ]);
  assert.equal(result.stopReason, "tool_use");
  assert.deepEqual(result.usage, usageOf({ input: 310, output: 42, cacheRead: 3000, cacheWrite5m: 80 }));
  assert.equal(result.model, PROFILE);
  assert.equal(result.partial, false);
});

Deno.test("a ConverseStream cut inside a frame is partial and says how many bytes were left over", () => {
  const { result } = parseBytes(
    "bedrock.converse_stream",
    EVENT_STREAM,
    fixtureBytes("bedrock/converse_stream_truncated.eventstream"),
  );
  assert.equal(result.partial, true);
  assert.equal(result.text, "Listing ");
  assert.ok(
    result.errors.some((e) => /ended inside a message \(\d+ bytes left over\)/.test(e)),
    result.errors.join(),
  );
});

Deno.test("whole Converse and InvokeModel bodies, and Bedrock's error body, parse", () => {
  const converse =
    parseBytes("bedrock.converse", "application/json", fixtureBytes("bedrock/converse.json"), [], {
      pathModel: "amazon.nova-pro-v1:0",
    }).result;
  assert.equal(converse.text, "Paris.");
  assert.equal(converse.thinking, "Short answer.");
  assert.deepEqual(converse.toolCalls, [{
    id: "tooluse_1",
    name: "lookup",
    arguments: '{"city":"Paris"}',
    server: false,
  }]);
  assert.deepEqual(converse.usage, usageOf({ input: 25, output: 9 }));
  assert.equal(converse.model, "amazon.nova-pro-v1:0");
  const invoke = parseBytes("bedrock.invoke", "application/json", fixtureBytes("bedrock/invoke.json"), [], {
    pathModel: PROFILE,
  }).result;
  assert.equal(invoke.text, "Hi there.");
  assert.equal(invoke.model, PROFILE);
  assert.deepEqual(invoke.usage, usageOf({ input: 18, output: 5 }));
  const error = parseBytes("bedrock.invoke", "application/json", fixtureBytes("bedrock/error.json")).result;
  assert.deepEqual(error.errors, ["error: The security token included in the request is invalid."]);
});

Deno.test("a frame with a broken CRC is reported and the next frame still decodes", () => {
  const good = encodeEventStreamMessage(
    { ":message-type": "event", ":event-type": "x" },
    new Uint8Array([1]),
  );
  const bad = good.slice();
  bad[bad.length - 1] ^= 0xff;
  const decoder = new EventStreamDecoder();
  const out = decoder.push(new Uint8Array([...bad, ...good]));
  assert.equal(out.messages.length, 1);
  assert.equal(out.errors.length, 1);
  assert.match(out.errors[0], /invalid/);
  const huge = new EventStreamDecoder({ maxMessageBytes: 64 }).push(new Uint8Array([0, 1, 0, 0, 0, 0]));
  assert.match(huge.errors[0], /length 65536 is outside 16\.\.64 bytes/);
});

Deno.test("the strict final event of a Bedrock stream is the message_stop chunk, found to the byte", () => {
  const bytes = fixtureBytes("bedrock/invoke_stream_text.eventstream");
  const { finalAt } = createResponseParser("bedrock.invoke_stream", EVENT_STREAM).pushFindingFinal(bytes);
  const held = new EventStreamDecoder().push(bytes.subarray(finalAt!));
  assert.equal(held.messages.length, 1);
  const payload = JSON.parse(new TextDecoder().decode(held.messages[0].payload));
  assert.equal(JSON.parse(atob(payload.bytes)).type, "message_stop");
});

Deno.test("InvokeModel and Converse request bodies parse into the one request shape", () => {
  const invoke = parseRequest("bedrock.invoke_stream", {
    anthropic_version: "bedrock-2023-05-31",
    anthropic_beta: ["claude-code-20250219"],
    max_tokens: 32000,
    system: [{ type: "text", text: "You are Claude Code." }],
    messages: [{ role: "user", content: [{ type: "text", text: "say hello" }] }],
    tools: [{ name: "Bash", input_schema: {} }],
  }, { "x-claude-code-session-id": "5c0b2a34-0000-4000-8000-000000000001" });
  assert.equal(invoke.stream, true);
  assert.equal(invoke.model, null);
  assert.equal(invoke.userText, "say hello");
  assert.deepEqual(invoke.toolsOffered, ["Bash"]);
  assert.equal(invoke.maxOutputTokens, 32000);
  assert.equal(invoke.sessionHints.sessionId, "5c0b2a34-0000-4000-8000-000000000001");
  const converse = parseRequest("bedrock.converse", {
    system: [{ text: "Be brief." }, { text: "Use tools." }],
    messages: [
      { role: "user", content: [{ text: "list files" }] },
      { role: "assistant", content: [{ toolUse: { toolUseId: "t1", name: "ls", input: {} } }] },
      {
        role: "user",
        content: [
          {
            toolResult: { toolUseId: "t1", content: [{ text: "a.ts" }, { json: { n: 1 } }], status: "error" },
          },
          { text: "and then?" },
        ],
      },
    ],
    toolConfig: { tools: [{ toolSpec: { name: "ls", inputSchema: { json: {} } } }] },
    inferenceConfig: { maxTokens: 512, temperature: 0 },
  }, {});
  assert.equal(converse.stream, false);
  assert.equal(converse.system, "Be brief.\n\nUse tools.");
  assert.equal(converse.userText, "and then?");
  assert.deepEqual(converse.toolResults, [{ callId: "t1", content: 'a.ts\n{"n":1}', isError: true }]);
  assert.deepEqual(converse.toolsOffered, ["ls"]);
  assert.equal(converse.maxOutputTokens, 512);
  assert.equal(converse.messageCount, 3);
});

Deno.test("Bedrock ids and inference profiles are priced at AWS's rates, global below regional", () => {
  const usage = usageOf({ input: 100_000, output: 10_000 }); // below the long-context tier
  const at = new Date("2026-12-01T00:00:00Z");
  const regional = priceUsage("bedrock", PROFILE, usage, at);
  const global = priceUsage("bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", usage, at);
  const base = priceUsage("bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", usage, at);
  const eu = priceUsage("bedrock", "eu.anthropic.claude-3-5-haiku-20241022-v1:0", usage, at);
  const apac = priceUsage("bedrock", "apac.anthropic.claude-sonnet-4-20250514-v1:0", usage, at);
  for (const priced of [regional, global, base, eu, apac]) {
    assert.equal(priced.unpriced, false, priced.reason ?? "");
  }
  assert.ok(global.usd! < regional.usd!, `global ${global.usd} < regional ${regional.usd}`);
  assert.equal(base.usd, regional.usd);
  const direct = priceUsage("anthropic", "claude-sonnet-4-5-20250929", usage, at);
  assert.equal(global.usd, direct.usd, "the global profile costs Anthropic's list price");
  assert.equal(priceUsage("bedrock", "us.nobody.model-v9:0", usage, at).unpriced, true);
});

Deno.test("a block reads as a Bedrock error: JSON message, x-amzn-errortype, and an exception frame mid-stream", async () => {
  const response = providerErrorResponse("bedrock", 400, "blocked", "Blocked by policy block-list");
  assert.equal(response.headers.get("x-amzn-errortype"), "ValidationException");
  assert.deepEqual(await response.json(), { message: "Blocked by policy block-list" });
  assert.equal(
    providerErrorResponse("bedrock", 429, "rate_limited", "slow").headers.get("x-amzn-errortype"),
    "ThrottlingException",
  );
  const frame = new EventStreamDecoder().push(eventStreamErrorFrame(403, "blocked", "no")).messages[0];
  assert.deepEqual(frame.headers, {
    ":message-type": "exception",
    ":exception-type": "accessDeniedException",
    ":content-type": "application/json",
  });
  assert.deepEqual(JSON.parse(new TextDecoder().decode(frame.payload)), { message: "no" });
});

Deno.test("Claude Code's recorded Bedrock request and the answer it got parse as Bedrock", () => {
  const file = clientExchangeFiles().find((f) => f.startsWith("claude-code/claude-bedrock/"));
  assert.ok(file, "the claude-bedrock recording is missing (scripts/record_fixtures.ts claude-bedrock)");
  const exchange = clientExchange(file) as ClientExchange & { host: string };
  // Measured: Claude Code sends the model id's colon unencoded.
  assert.equal(exchange.path, `/model/${PROFILE}/invoke-with-response-stream`);
  const match = detectApi(exchange.host, exchange.method, exchange.path);
  assert.deepEqual(match, {
    provider: "bedrock",
    api: "bedrock.invoke_stream",
    isModelTurn: true,
    pathModel: PROFILE,
  });
  const headers = lowerHeaders(exchange.headers);
  const request = parseRequest("bedrock.invoke_stream", exchange.body, headers);
  assert.equal(request.userText, "say hello");
  assert.equal(request.stream, true);
  assert.equal(request.sessionHints.sessionId, headers["x-claude-code-session-id"]);
  assert.ok(request.toolsOffered.includes("Bash"), request.toolsOffered.join());
  assert.equal(exchange.response.body !== null && exchange.response.headers["content-type"], EVENT_STREAM);
  const bytes = Uint8Array.from(atob(exchange.response.body!), (c) => c.charCodeAt(0));
  const { result } = parseBytes("bedrock.invoke_stream", EVENT_STREAM, bytes, [], { pathModel: PROFILE });
  assert.equal(result.text, "RECONDO-FAKE-OK");
  assert.deepEqual(result.usage, usageOf({ input: 21, output: 7 }));
  assert.equal(result.partial, false);
});
