/**
 * Issue #6: "open the session of a real Claude Code run and see its tool calls". The real Claude Code CLI
 * runs inside `unshare -n` through `main.ts serve`; the fake provider answers its turn with a Bash call
 * (`echo recondo-tool-ok`), Claude Code runs it and sends the output back, and the fake answers with text.
 * The gateway's captured data is then served by the UI, and Chromium opens that session's page.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { chromium } from "playwright-core";
import { runHarness } from "../agents/harness.ts";
import { requireAgents } from "../agents/scenarios.ts";
import { ADMIN, startUiStack } from "./stack.ts";
import { CHROMIUM, CHROMIUM_ARGS, login, requireChromium } from "./browser.ts";

const ARTIFACTS = join(new URL("../..", import.meta.url).pathname, "test-artifacts", "ui");

Deno.test({
  name: "the session of a real Claude Code run shows the Bash call it made, its arguments and its output",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    requireAgents();
    requireChromium();
    const dataDir = await Deno.makeTempDir({ prefix: "recondo-claude-tool-" });
    let sessionId: string;
    try {
      const run = await runHarness(["claude-tool", "--tool-script", `--keep-data=${dataDir}`]);
      const result = run.results.get("claude-tool");
      assert.ok(result?.ok, `Claude Code through the gateway: ${JSON.stringify(result)}`);
      assert.equal(
        result.requests.filter((r) => r.method === "POST" && r.path.startsWith("/v1/messages")).length,
        2,
        "one request asked for the tool, the next brought its result",
      );
      sessionId = assertToolRoundTripStored(join(dataDir, "recondo.db"));
    } catch (error) {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      throw error;
    }

    const stack = await startUiStack({}, { dataDir });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await login(page, stack.url, ADMIN.name, ADMIN.password);
      await page.goto(`${stack.url}/sessions/${sessionId}`);
      const text = await page.locator("main").innerText();
      assert.match(text, /Reply with the single word OK\./, "the prompt");
      // The call is shown on the turn that made it, its output on the next turn, which sent it back.
      const asked = await page.locator("#turn-1").innerText();
      assert.match(asked, /Response \(tool_use\)/);
      assert.match(asked, /Tool calls\s+Bash\b/, "the tool call's name");
      assert.match(asked, /"command": "echo recondo-tool-ok"/, "its arguments");
      assert.match(asked, /"description": "print a marker"/);
      const answered = await page.locator("#turn-2").innerText();
      assert.match(
        answered,
        /Tool results sent\s+Bash toolu_\S+\s+recondo-tool-ok\s/,
        "its output, as sent back",
      );
      assert.match(answered, /Response \(end_turn\)\s+RECONDO-FAKE-OK/, "the final answer");
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "claude-code-tool-session.png"), fullPage: true });
    } finally {
      await browser.close();
      await stack.close();
    }
  },
});

/**
 * Reads what the gateway stored and returns the session id: one turn holds the `Bash` call, the next turn
 * of the same session holds its result, linked by call id, and the result is the command's output.
 */
function assertToolRoundTripStored(dbFile: string): string {
  const db = new DatabaseSync(dbFile, { readOnly: true });
  try {
    const calls = db.prepare(
      `SELECT c.id, c.session_id, c.call_id, c.name, c.arguments, t.seq
         FROM tool_calls c JOIN turns t ON t.id = c.turn_id`,
    ).all() as {
      id: string;
      session_id: string;
      call_id: string;
      name: string;
      arguments: string;
      seq: number;
    }[];
    assert.equal(calls.length, 1, `one tool call stored: ${JSON.stringify(calls)}`);
    const [call] = calls;
    assert.equal(call.name, "Bash");
    assert.deepEqual(JSON.parse(call.arguments), {
      command: "echo recondo-tool-ok",
      description: "print a marker",
    });
    const results = db.prepare(
      `SELECT r.session_id, r.call_id, r.tool_call_id, r.content, r.is_error, t.seq
         FROM tool_results r JOIN turns t ON t.id = r.turn_id`,
    ).all() as {
      session_id: string;
      call_id: string;
      tool_call_id: string | null;
      content: string;
      is_error: number;
      seq: number;
    }[];
    assert.equal(results.length, 1, `one tool result stored: ${JSON.stringify(results)}`);
    const [sent] = results;
    assert.equal(sent.session_id, call.session_id, "the result belongs to the call's session");
    assert.equal(sent.seq, call.seq + 1, "the result comes with the turn after the call");
    assert.equal(sent.call_id, call.call_id);
    assert.equal(sent.tool_call_id, call.id, "the result is linked to its call");
    // The output, not the command echoed back: Claude Code really ran it.
    assert.equal(sent.content.trim(), "recondo-tool-ok");
    assert.equal(Number(sent.is_error), 0);
    return call.session_id;
  } finally {
    db.close();
  }
}
