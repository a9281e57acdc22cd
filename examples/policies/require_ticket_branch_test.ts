import assert from "node:assert/strict";
import { buildChain } from "../../policies/build_chain.ts";
import { makeExchange, makeHookContext } from "../../policies/testing.ts";
import policy, { branchOf } from "./require_ticket_branch.ts";

const claudeCode = (branch: string) => ({
  model: "claude-sonnet-4-5",
  system: [{
    type: "text",
    text: `gitStatus: This is the git status.\nCurrent branch: ${branch}\n\nMain branch: main`,
  }],
  messages: [{ role: "user", content: "fix the login bug" }],
});

const create = (options: unknown) => policy.create(policy.options.parse(options), {});

Deno.test("the ticket-branch example refuses a branch without a ticket id and says how to fix it", async () => {
  const p = create({ teams: ["payments"] });
  const bad = makeExchange({ api: "anthropic.messages", json: claudeCode("fix-login"), team: "payments" });
  assert.equal(branchOf(bad.request), "fix-login");
  const verdict = await p.onRequest!(bad.exchange, bad.request, makeHookContext());
  assert.equal(verdict.kind, "block");
  assert.match(verdict.kind === "block" ? verdict.reason : "", /branch "fix-login" names no ticket/);
  const good = makeExchange({
    api: "anthropic.messages",
    json: claudeCode("feat/PAY-42-login"),
    team: "payments",
  });
  assert.equal((await p.onRequest!(good.exchange, good.request, makeHookContext())).kind, "allow");
  const main = makeExchange({ api: "anthropic.messages", json: claudeCode("main"), team: "payments" });
  assert.equal((await p.onRequest!(main.exchange, main.request, makeHookContext())).kind, "allow");
  const other = makeExchange({ api: "anthropic.messages", json: claudeCode("fix-login"), team: "web" });
  assert.equal((await p.onRequest!(other.exchange, other.request, makeHookContext())).kind, "allow");
});

Deno.test("the ticket-branch example loads from its path through buildChain and checks its options", async () => {
  const entry = (options: unknown) => ({
    use: "./examples/policies/require_ticket_branch.ts",
    options,
    mode: "enforce" as const,
    failMode: "closed" as const,
    enabled: true,
    timeoutMs: 1000,
  });
  const chain = await buildChain([entry({ whenUnknown: "block" })], { baseDir: Deno.cwd() });
  const unknown = makeExchange({ api: "anthropic.messages", json: { messages: [] } });
  const outcome = await chain.runRequest(unknown.exchange, unknown.request, () => unknown.request);
  assert.equal(outcome.kind, "block");
  await assert.rejects(
    buildChain([entry({ pattern: "([" })], { baseDir: Deno.cwd() }),
    /options\.pattern is not a valid regular expression/,
  );
});
