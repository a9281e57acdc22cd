/**
 * The crash test on the real gateway process: `main.ts serve` with strict durability is killed
 * with SIGKILL while 20 streams run through it. After a restart (which replays the journal) every
 * exchange whose stream completed at the client is a turn, exactly once. Capture runs in a worker thread,
 * so this also proves that the proxy's thread holds a stream's last bytes until that worker says durable.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { startGatewayProcess } from "./agents/gateway_process.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";

const PARTS = Array.from({ length: 8 }, (_, i) => `part-${i} `);

async function streamOnce(client: Deno.HttpClient, prompt: string): Promise<boolean> {
  const res = await fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    client,
    headers: { "content-type": "application/json", "x-api-key": "sk-ant-api03-crash-test" },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      stream: true,
      max_tokens: 64,
      messages: [{ role: "user", content: prompt }],
    }),
  });
  const text = await res.text();
  // The fake streams each part as its own delta; a completed stream carries all of them and message_stop.
  return res.ok && PARTS.every((p) => text.includes(p)) && text.includes("message_stop");
}

Deno.test({
  name: "strict: serve killed with SIGKILL during 20 streams keeps every exchange the client saw complete",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const fake = await startFakeProvider({ behavior: { answer: PARTS, eventDelayMs: 10 } });
    const configDir = await Deno.makeTempDir();
    const configFile = join(configDir, "recondo.json");
    await Deno.writeTextFile(configFile, JSON.stringify({ capture: { durability: "strict" } }));
    const overrides = { "api.anthropic.com": fake.url };
    const gateway = await startGatewayProcess({ overrides, configFile });
    const completed: string[] = [];
    let killed = false;
    try {
      const ca = await Deno.readTextFile(gateway.caFile);
      const lanes = Array.from({ length: 20 }, async (_, lane) => {
        // One connection per lane, as an agent keeps one.
        const client = Deno.createHttpClient({ caCerts: [ca], proxy: { url: gateway.proxyUrl } });
        try {
          for (let n = 0; !killed; n++) {
            const prompt = `crash lane ${lane} request ${n}`;
            if (await streamOnce(client, prompt).catch(() => false)) completed.push(prompt);
          }
        } finally {
          client.close();
        }
      });
      while (completed.length < 60) await new Promise((r) => setTimeout(r, 5));
      await gateway.crash();
      killed = true;
      const seen = completed.length;
      await Promise.all(lanes);
      assert.equal(completed.length, seen, "no stream completed after the kill");

      // The restart replays the journal into the stores before it answers /healthz.
      const restarted = await startGatewayProcess({ overrides, configFile, dataDir: gateway.dataDir });
      try {
        const db = new DatabaseSync(join(gateway.dataDir, "recondo.db"), { readOnly: true });
        const prompts = db.prepare("SELECT prompt FROM turns").all().map((r) => String(r.prompt));
        db.close();
        const counts = new Map<string, number>();
        for (const p of prompts) counts.set(p, (counts.get(p) ?? 0) + 1);
        const missing = completed.filter((p) => !counts.has(p));
        assert.deepEqual(
          missing,
          [],
          `completed at the client but not captured (${completed.length} completed)`,
        );
        const doubled = [...counts].filter(([, n]) => n > 1);
        assert.deepEqual(doubled, [], "each exchange is captured once");
        assert.ok(completed.length >= 60);
      } finally {
        await restarted.stop();
      }
    } finally {
      if (!killed) await gateway.stop();
      await fake.close();
      await Deno.remove(configDir, { recursive: true });
    }
  },
});
