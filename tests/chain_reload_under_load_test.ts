/**
 * Hot reload under load: while requests stream through the gateway, the policy chain is swapped over and
 * over (built-ins and a user module by path, edited between reloads). No request may be lost or refused,
 * and each exchange keeps the chain it started with.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { startTestGateway } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "reloading the chain 20 times while 8 clients send 200 requests loses and refuses none",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider({
      record: false,
      behavior: { answer: ["a", "b"], eventDelayMs: 5 },
    });
    const sink = new MemorySink();
    await using gw = await startTestGateway({ overrides: { "api.anthropic.com": fake.url }, sink });
    const module = join(gw.dataDir, "tagger.ts");
    const policies = (n: number) => [
      { use: "block-list", options: { models: ["never-*"] } },
      { use: "route", options: { rules: [{ match: { model: "alias-*" }, model: "claude-sonnet-4-5" }] } },
      { use: "./tagger.ts", options: {} },
      ...(n % 2 ? [{ use: "block-list", options: { teams: ["nobody"] } }] : []),
    ];
    const writeModule = (n: number) =>
      Deno.writeTextFile(
        module,
        `export default { name: "tagger", description: "tags", options: { safeParse: (v) => ({ success: true, data: v }) },
         create: () => ({ name: "tagger", onRequest: () => ({ kind: "allow", reason: "version ${n}" }) }) };`,
      );
    await writeModule(0);
    await gw.writeConfig({ listen: "127.0.0.1:0", policies: policies(0) });
    assert.deepEqual(await gw.reload(), { ok: true });

    let reloading = true;
    const reloads = (async () => {
      for (let n = 1; n <= 20; n++) {
        await writeModule(n);
        await gw.writeConfig({ listen: "127.0.0.1:0", policies: policies(n) });
        const result = await gw.reload();
        assert.deepEqual(result, { ok: true });
        await new Promise((r) => setTimeout(r, 10));
      }
      reloading = false;
    })();
    const statuses: number[] = [];
    const workers = Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 25; i++) {
        const res = await fetch("https://api.anthropic.com/v1/messages", {
          method: "POST",
          client: gw.client,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "alias-fast", max_tokens: 5, stream: true, messages: [] }),
        });
        await res.text();
        statuses.push(res.status);
      }
    });
    await Promise.all([reloads, ...workers]);
    assert.equal(reloading, false);
    assert.equal(statuses.length, 200);
    assert.deepEqual(statuses.filter((s) => s !== 200), []);
    const captured = await sink.waitFor(200);
    const versions = new Set<string>();
    for (const c of captured) {
      const tags = c.exchange.decisions.filter((d) => d.policy === "tagger");
      assert.equal(tags.length, 1, `exchange ${c.exchange.id} ran ${tags.length} tagger hooks`);
      versions.add(tags[0].reason);
      assert.ok(c.exchange.decisions.some((d) => d.policy === "route" && d.kind === "modify"));
    }
    assert.ok(versions.size > 1, "the requests never saw a reloaded module");
    await fake.close();
  },
});
