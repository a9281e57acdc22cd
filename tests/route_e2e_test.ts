/**
 * `route` through a real gateway: a contractor's Opus request reaches the upstream as Sonnet, a provider's
 * traffic goes to another origin, and each rewrite is a recorded decision captured with the exchange.
 */
import assert from "node:assert/strict";
import { providerParsers } from "../cli/wiring.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { startTestGateway } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "route rewrites a contractor's model and sends OpenAI traffic to another upstream, recording both",
  ...SANITIZE,
  async fn() {
    const primary = await startFakeProvider();
    const regional = await startFakeProvider();
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      config: {
        developers: [
          { name: "carol", team: "contractors", token: "carol-secret-token" },
        ],
        policies: [{
          use: "route",
          options: {
            rules: [
              { match: { team: "contractors", model: "claude-opus-*" }, model: "claude-sonnet-4-5" },
              { match: { provider: "openai" }, upstream: regional.url },
            ],
          },
        }],
      },
      overrides: { "api.anthropic.com": primary.url, "api.openai.com": primary.url },
      parsers: providerParsers,
      sink,
      proxyAuth: "carol:carol-secret-token",
    });
    try {
      const anthropic = await fetch("https://api.anthropic.com/v1/messages", {
        method: "POST",
        client: gw.client,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "claude-opus-4-1",
          max_tokens: 20,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      assert.equal(anthropic.status, 200);
      assert.equal((await anthropic.json()).model, "claude-sonnet-4-5");
      const sent = JSON.parse(new TextDecoder().decode(primary.requests[0].body));
      assert.equal(sent.model, "claude-sonnet-4-5");
      assert.equal(sent.max_tokens, 20);

      const openai = await fetch("https://api.openai.com/v1/responses", {
        method: "POST",
        client: gw.client,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-5", input: "hi" }),
      });
      assert.equal(openai.status, 200);
      await openai.text();
      assert.equal(regional.requests.length, 1);
      assert.equal(primary.requests.length, 1);

      const captured = await sink.waitFor(2);
      const modifies = captured.flatMap((c) => c.exchange.decisions).filter((d) => d.kind === "modify");
      assert.deepEqual(modifies.map((d) => d.reason), [
        "route rule 0: model claude-opus-4-1 → claude-sonnet-4-5",
        `route rule 1: upstream ${primary.url} → ${regional.url}`,
      ]);
      assert.ok(modifies.every((d) => d.enforced && d.policy === "route"));
      const routed = captured.find((c) => c.exchange.provider === "openai");
      assert.equal(routed?.exchange.target.upstreamOrigin, regional.url);
    } finally {
      await primary.close();
      await regional.close();
    }
  },
});
