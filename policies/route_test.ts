import assert from "node:assert/strict";
import { makeExchange, makeHookContext } from "./testing.ts";
import { route } from "./route.ts";

const create = (options: unknown) => route.create(route.options.parse(options), {});

Deno.test("route rewrites the model for a team by glob and records from, to and the rule", async () => {
  const policy = create({
    rules: [{ match: { team: "contractors", model: "claude-opus-*" }, model: "claude-sonnet-4-5" }],
  });
  const { exchange, request } = makeExchange({
    json: { model: "claude-opus-4-1", max_tokens: 5, messages: [] },
    team: "contractors",
  });
  const verdict = await policy.onRequest!(exchange, request, makeHookContext());
  assert.equal(verdict.kind, "modify");
  if (verdict.kind !== "modify") return;
  assert.deepEqual(verdict.patch.json, { model: "claude-sonnet-4-5", max_tokens: 5, messages: [] });
  assert.equal(verdict.reason, "route rule 0: model claude-opus-4-1 → claude-sonnet-4-5");
  assert.deepEqual(verdict.detail, { rule: 0, fromModel: "claude-opus-4-1", toModel: "claude-sonnet-4-5" });
  const staff = makeExchange({ json: { model: "claude-opus-4-1" }, team: "staff" });
  assert.equal((await policy.onRequest!(staff.exchange, staff.request, makeHookContext())).kind, "allow");
});

Deno.test("route sends a provider to another origin with fallbacks, first matching rule wins", async () => {
  const policy = create({
    rules: [
      {
        match: { provider: "openai" },
        upstream: "https://eu.llm-gw.internal/v1",
        fallback: ["https://api.openai.com"],
      },
      { match: {}, model: "never-used" },
    ],
  });
  const { exchange, request } = makeExchange({
    host: "api.openai.com",
    path: "/v1/responses",
    json: { model: "gpt-5" },
  });
  const verdict = await policy.onRequest!(exchange, request, makeHookContext());
  assert.equal(verdict.kind, "modify");
  if (verdict.kind !== "modify") return;
  assert.deepEqual(verdict.patch, {
    upstreamOrigin: "https://eu.llm-gw.internal",
    fallbackOrigins: ["https://api.openai.com"],
  });
  assert.equal(verdict.reason, "route rule 0: upstream https://api.openai.com → https://eu.llm-gw.internal");
  assert.equal(policy.needsRequestBody, true);
});

Deno.test("route does not pretend to rewrite a model that lives in the path", async () => {
  const policy = create({ rules: [{ match: { model: "gemini-*-pro" }, model: "gemini-2.5-flash" }] });
  const { exchange, request } = makeExchange({
    host: "generativelanguage.googleapis.com",
    path: "/v1beta/models/gemini-2.5-pro:generateContent",
    json: { contents: [] },
  });
  const verdict = await policy.onRequest!(exchange, request, makeHookContext());
  assert.equal(verdict.kind, "allow");
  assert.match(verdict.kind === "allow" ? verdict.reason ?? "" : "", /not rewritten/);
});

Deno.test("route accepts the documented shape and refuses a rule that changes nothing", () => {
  const shape = {
    rules: [{ match: { team: "contractors", model: "claude-opus-*" }, model: "claude-sonnet-4-5" }],
  };
  assert.equal(route.options.safeParse(shape).success, true);
  assert.equal(route.options.safeParse({ rules: [{ match: { team: "x" } }] }).success, false);
  assert.equal(route.options.safeParse({ rules: [{ upstream: "ftp://x" }] }).success, false);
});
