import assert from "node:assert/strict";
import { claudeCodeSession, loadClaudeCodeTemplate, toolOutput } from "./claude_code_session.ts";

type Body = {
  system: { text: string }[];
  tools: unknown[];
  messages: { role: string; content: { type: string; cache_control?: unknown; content?: string }[] }[];
};

Deno.test("a session grows by one tool call and one 2–6 KB tool result per turn on a stable prefix", async () => {
  const template = await loadClaudeCodeTemplate();
  const turns = [...claudeCodeSession(template, 6, 3)];
  assert.deepEqual(turns.map((t) => t.turn), [1, 2, 3, 4, 5, 6]);
  const bodies = turns.map((t) => JSON.parse(new TextDecoder().decode(t.requestBody)) as Body);
  assert.ok(turns[0].requestBody.length > 80_000, `first request ${turns[0].requestBody.length} B`);
  for (const [i, body] of bodies.entries()) {
    assert.equal(body.messages.length, 1 + 2 * i);
    assert.deepEqual(body.tools, template.body.tools);
    assert.deepEqual(body.system.slice(1), template.body.system.slice(1));
    assert.equal(turns[i].headers["content-length"], String(turns[i].requestBody.length));
  }
  for (let i = 1; i < bodies.length; i++) {
    const [use, result] = bodies[i].messages.slice(-2);
    assert.equal(use.role, "assistant");
    assert.equal(use.content[0].type, "tool_use");
    assert.equal(result.content[0].type, "tool_result");
    const size = result.content[0].content!.length;
    assert.ok(size >= 2048 && size <= 6144, `tool result ${size} B`);
    // Earlier messages are unchanged apart from the breakpoint.
    const strip = (m: unknown) => JSON.stringify(m).replace(/,"cache_control":\{[^}]*\}/g, "");
    assert.equal(strip(bodies[i].messages.slice(0, -2)), strip(bodies[i - 1].messages));
  }
});

Deno.test("the cache_control breakpoint sits on the newest message only", async () => {
  const template = await loadClaudeCodeTemplate();
  for (const turn of claudeCodeSession(template, 4, 1)) {
    const body = JSON.parse(new TextDecoder().decode(turn.requestBody)) as Body;
    const marked = body.messages.flatMap((m, i) => m.content.filter((b) => b.cache_control).map(() => i));
    assert.deepEqual(marked, [body.messages.length - 1]);
  }
});

Deno.test("each answer calls the tool that the next request carries the result of", async () => {
  const template = await loadClaudeCodeTemplate();
  const [first, second] = [...claudeCodeSession(template, 2, 1)];
  const id = /"id":"(toolu_[^"]+)"/.exec(new TextDecoder().decode(first.responseBody))![1];
  const body = JSON.parse(new TextDecoder().decode(second.requestBody)) as Body;
  assert.match(JSON.stringify(body.messages.at(-1)), new RegExp(`"tool_use_id":"${id}"`));
});

Deno.test("tool output is deterministic for a seed and exactly the asked size", () => {
  const words = ["const", "return", "src/main.ts", "await", "=>"];
  assert.equal(toolOutput(words, 3000, 7), toolOutput(words, 3000, 7));
  assert.notEqual(toolOutput(words, 3000, 7), toolOutput(words, 3000, 8));
  assert.equal(toolOutput(words, 3000, 7).length, 3000);
});
