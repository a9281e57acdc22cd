import assert from "node:assert/strict";
import { PolicyChain } from "../../policies/chain.ts";
import { makeExchange, makeHookContext } from "../../policies/testing.ts";
import policy from "./deny_tools.ts";

const create = (options: unknown) => policy.create(policy.options.parse(options), {});

Deno.test("the deny-tools example stops a denied tool call for the team as it starts streaming", () => {
  const chain = new PolicyChain([{
    policy: create({ tools: ["Bash", "mcp__github__*"], teams: ["contractors"] }),
    mode: "enforce",
    failMode: "closed",
    timeoutMs: 1000,
  }]);
  const { exchange } = makeExchange({ team: "contractors" });
  const start = (name: string) => ({
    type: "tool_call_start" as const,
    index: 0,
    id: "toolu_1",
    name,
    server: false,
  });
  assert.equal(chain.runEvent(exchange, start("Read")), null);
  const block = chain.runEvent(exchange, start("mcp__github__merge_pr"));
  assert.match(block?.reason ?? "", /tool "mcp__github__merge_pr" is not allowed for team contractors/);
  const staff = makeExchange({ team: "staff" }).exchange;
  assert.equal(chain.runEvent(staff, start("Bash")), null);
});

Deno.test("the deny-tools example removes denied tools from Anthropic, OpenAI and Gemini requests", async () => {
  const p = create({ tools: ["bash"] });
  const cases = [
    { tools: [{ name: "Bash" }, { name: "Read" }] },
    {
      tools: [{ type: "function", function: { name: "bash" } }, {
        type: "function",
        function: { name: "ls" },
      }],
    },
    { tools: [{ functionDeclarations: [{ name: "bash" }, { name: "ls" }] }] },
  ];
  const expected = [
    [{ name: "Read" }],
    [{ type: "function", function: { name: "ls" } }],
    [{ functionDeclarations: [{ name: "ls" }] }],
  ];
  for (const [i, json] of cases.entries()) {
    const { exchange, request } = makeExchange({ json });
    const verdict = await p.onRequest!(exchange, request, makeHookContext());
    assert.equal(verdict.kind, "modify");
    if (verdict.kind === "modify") {
      assert.deepEqual((verdict.patch.json as { tools: unknown }).tools, expected[i]);
    }
  }
  const { exchange, request } = makeExchange({ json: { tools: [{ name: "Read" }] } });
  assert.equal((await p.onRequest!(exchange, request, makeHookContext())).kind, "allow");
});
