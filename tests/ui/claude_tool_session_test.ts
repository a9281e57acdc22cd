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
import { agentsInstalled } from "../agents/scenarios.ts";
import { ADMIN, startUiStack } from "./stack.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(new URL("../..", import.meta.url).pathname, "test-artifacts", "ui");
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);

Deno.test({
  name: "the session of a real Claude Code run shows the Bash call it made, its arguments and its output",
  ignore: !agentsInstalled() || !hasChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "recondo-claude-tool-" });
    const run = await runHarness(["claude-tool", "--tool-script", `--keep-data=${dataDir}`]);
    const result = run.results.get("claude-tool");
    assert.ok(result?.ok, `Claude Code through the gateway: ${JSON.stringify(result)}`);
    assert.equal(
      result.requests.filter((r) => r.method === "POST" && r.path.startsWith("/v1/messages")).length,
      2,
      "one request asked for the tool, the next brought its result",
    );

    const db = new DatabaseSync(join(dataDir, "recondo.db"), { readOnly: true });
    let sessionId: string;
    try {
      const [call] = db.prepare("SELECT session_id, name, arguments FROM tool_calls").all() as Record<
        string,
        string
      >[];
      assert.equal(call.name, "Bash");
      assert.deepEqual(JSON.parse(call.arguments).command, "echo recondo-tool-ok");
      const [toolResult] = db.prepare("SELECT content, is_error FROM tool_results").all() as Record<
        string,
        unknown
      >[];
      assert.match(String(toolResult.content), /recondo-tool-ok/, "Claude Code really ran the command");
      assert.equal(Number(toolResult.is_error), 0);
      sessionId = call.session_id;
    } finally {
      db.close();
    }

    const stack = await startUiStack({}, { dataDir });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${stack.url}/`);
      await page.getByLabel("Name").fill(ADMIN.name);
      await page.getByLabel("Password or bootstrap token").fill(ADMIN.password);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForURL(`${stack.url}/`);
      await page.goto(`${stack.url}/sessions/${sessionId}`);
      const text = await page.locator("main").innerText();
      assert.match(text, /Reply with the single word OK\./, "the prompt");
      assert.match(text, /Tool calls[\s\S]*Bash/, "the tool call's name");
      assert.match(text, /echo recondo-tool-ok/, "its arguments");
      assert.match(
        text,
        /Tool results sent[\s\S]*recondo-tool-ok/,
        "its output, as Claude Code sent it back",
      );
      assert.match(text, /RECONDO-FAKE-OK/, "the final answer");
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "claude-code-tool-session.png"), fullPage: true });
    } finally {
      await browser.close();
      await stack.close();
    }
  },
});
