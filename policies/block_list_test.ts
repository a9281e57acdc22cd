import assert from "node:assert/strict";
import { blockList } from "./block_list.ts";
import { makeExchange, makeHookContext } from "./testing.ts";

function check(options: unknown, exchangeOptions: Parameters<typeof makeExchange>[0]) {
  const policy = blockList.create(blockList.options.parse(options), {});
  const { exchange, request } = makeExchange(exchangeOptions);
  return policy.onRequest!(exchange, request, makeHookContext());
}

Deno.test("block-list blocks by model pattern, team, developer, provider, host and path", async () => {
  const cases: [unknown, Parameters<typeof makeExchange>[0], string][] = [
    [{ models: ["claude-opus-*"] }, { json: { model: "claude-opus-4-1" } }, "model claude-opus-4-1"],
    [{ models: ["gemini-*-pro"] }, {
      host: "generativelanguage.googleapis.com",
      path: "/v1beta/models/gemini-2.5-pro:generateContent",
      json: {},
    }, "model gemini-2.5-pro"],
    [{ teams: ["contractors"] }, { team: "contractors", json: {} }, "team contractors"],
    [{ developers: ["mallory"] }, { developer: "mallory", json: {} }, "developer mallory"],
    [{ providers: ["openai"] }, { host: "api.openai.com", json: {} }, "provider openai"],
    [{ hosts: ["api.anthropic.com"] }, { json: {} }, "host api.anthropic.com"],
    [
      { paths: ["/v1/messages/count_tokens"] },
      { path: "/v1/messages/count_tokens?beta=true", json: {} },
      "path /v1/messages/count_tokens",
    ],
  ];
  for (const [options, exchange, what] of cases) {
    const verdict = await check(options, exchange);
    assert.equal(verdict.kind, "block", what);
    assert.match(verdict.kind === "block" ? verdict.reason : "", new RegExp(`\\(${what}\\)`));
    assert.equal(verdict.kind === "block" ? verdict.status : 0, 400);
  }
});

Deno.test("block-list lets everything else through, and matches models case-insensitively", async () => {
  assert.equal(
    (await check({ models: ["claude-opus-*"] }, { json: { model: "claude-sonnet-4-5" } })).kind,
    "allow",
  );
  assert.equal(
    (await check({ models: ["claude-opus-*"] }, { json: { model: "CLAUDE-OPUS-4" } })).kind,
    "block",
  );
  assert.equal((await check({}, { team: "alpha", json: { model: "x" } })).kind, "allow");
});

Deno.test("block-list only asks for request bodies when it filters by model", () => {
  assert.equal(blockList.create(blockList.options.parse({ models: ["x"] }), {}).needsRequestBody, true);
  assert.equal(blockList.create(blockList.options.parse({ teams: ["x"] }), {}).needsRequestBody, false);
});
