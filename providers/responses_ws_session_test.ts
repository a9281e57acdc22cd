import assert from "node:assert/strict";
import { clientExchange, clientWsMessages, fixtureLines, lowerHeaders, usageOf } from "./_testing.ts";
import { createResponsesWsSession, type WsTurn } from "./responses_ws_session.ts";

Deno.test("a Codex WebSocket connection splits into one turn per response, each with its request", () => {
  const headers = lowerHeaders(clientExchange("codex/codex/001-api.openai.com_v1_responses.json").headers);
  const clientMessages = clientWsMessages("codex/codex");
  const server = fixtureLines("openai_responses/ws_session.jsonl");
  const session = createResponsesWsSession(headers);
  const turns: WsTurn[] = [];

  session.client(clientMessages[0]); // the warm-up
  for (const message of server.slice(0, 2)) {
    const { completed } = session.server(message);
    if (completed) turns.push(completed);
  }
  session.client(clientMessages[1]); // the turn
  for (const message of server.slice(2)) {
    const { completed } = session.server(message);
    if (completed) turns.push(completed);
  }

  assert.equal(turns.length, 2);
  assert.equal(turns[0].request?.prewarm, true);
  assert.equal(turns[0].response.id, "resp_warm");
  assert.deepEqual(turns[0].response.usage, usageOf({}));
  assert.equal(turns[1].request?.userText, "FAKE_TOOL: run the marker command");
  assert.equal(turns[1].request?.sessionHints.sessionId, headers["session-id"]);
  assert.ok(headers["session-id"], "the recorded upgrade carries Codex's session-id header");
  assert.equal(turns[1].response.id, "resp_turn");
  assert.equal(turns[1].response.toolCalls[0].id, "call_ws");
  assert.deepEqual(
    turns[1].response.usage,
    usageOf({ input: 904, cacheRead: 4096, output: 30, reasoning: 12 }),
  );
  assert.equal(session.close(), null, "nothing is in progress after the last response completed");
});

Deno.test("a connection closed mid-response yields that turn as partial, with an estimate from the request size", () => {
  const session = createResponsesWsSession({});
  const create = JSON.stringify({ type: "response.create", model: "gpt-5", input: "x".repeat(4000) });
  session.client(create);
  const server = fixtureLines("openai_responses/ws_session.jsonl");
  assert.equal(session.server(server[2]).completed, null);
  session.server(server[3]);
  const turn = session.close();
  assert.equal(turn?.request?.model, "gpt-5");
  assert.equal(turn?.response.partial, true);
  assert.equal(turn?.response.usage?.estimated, true);
  assert.equal(turn?.response.usage?.input, Math.ceil(create.length / 4));
});

Deno.test("an error message from the server ends the turn it belongs to", () => {
  const session = createResponsesWsSession({});
  session.client('{"type":"response.create","model":"gpt-5","input":"hi"}');
  const { completed } = session.server(
    '{"type":"error","status":429,"error":{"type":"rate_limit_error","code":"rate_limit_exceeded","message":"slow down"}}',
  );
  assert.deepEqual(completed?.response.errors, ["rate_limit_exceeded: slow down"]);
  assert.equal(completed?.response.usage, null);
});
