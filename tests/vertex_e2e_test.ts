/**
 * Google Vertex AI through `recondo serve` with strict capture, on the hosts a deployment intercepts:
 * Claude via `:streamRawPredict` on a regional host and Gemini via `:streamGenerateContent` on the global
 * one. Each turn is captured with the model from the path, the fake's exact tokens and a cost; the OAuth
 * access token is stored nowhere, only as the keyed hash that attributes the turn to its developer; a
 * block-list entry answers in the format each publisher's client reads.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { startGatewayProcess } from "./agents/gateway_process.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { makeTestCertificate } from "./fake_provider/tls.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const REGIONAL = "us-east5-aiplatform.googleapis.com";
const GLOBAL = "aiplatform.googleapis.com";
const TOKEN = "ya29.a0AfB_byC-recondo-vertex-e2e-access-token";
const CLAUDE_PATH =
  "/v1/projects/acme-ai/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict";
const GEMINI_PATH =
  "/v1/projects/acme-ai/locations/global/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse";

const claudeBody = (text: string) =>
  JSON.stringify({
    anthropic_version: "vertex-2023-10-16",
    stream: true,
    max_tokens: 64,
    messages: [{ role: "user", content: text }],
  });
const geminiBody = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hello vertex" }] }] });

/** Every file under `dir`, as bytes, with the path. */
async function* filesUnder(dir: string): AsyncGenerator<[string, Uint8Array]> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* filesUnder(path);
    else if (entry.isFile) yield [path, await Deno.readFile(path)];
  }
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test({
  name: "Vertex AI Claude and Gemini turns are captured with path models, exact tokens, cost and no token",
  ...SANITIZE,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "recondo-vertex-" });
    const tls = makeTestCertificate();
    const fakeCa = join(dir, "fake-ca.pem");
    await Deno.writeTextFile(fakeCa, tls.caCert);
    const hmacKey = crypto.getRandomValues(new Uint8Array(32));
    const hmacFile = join(dir, "hmac.key");
    await Deno.writeFile(hmacFile, hmacKey, { mode: 0o600 });
    const tokenHash = createHmac("sha256", hmacKey).update(TOKEN, "utf8").digest("hex");
    const configFile = join(dir, "recondo.json");
    await Deno.writeTextFile(
      configFile,
      JSON.stringify({
        intercept: [REGIONAL, GLOBAL],
        capture: { durability: "strict" },
        developers: [{ name: "dana", team: "platform", apiKeyHashes: [tokenHash] }],
        policies: [{
          use: "block-list",
          // By path, not `models`: no policy reads the body, so capture parses the request behind the traffic.
          options: { paths: ["*/claude-opus-*", "*/gemini-2.5-pro:*"], message: "RECONDO-BLOCKED" },
        }],
      }),
    );
    const fake = await startFakeProvider({
      tls: { cert: tls.cert, key: tls.key },
      behavior: { usage: { input: 1000, output: 50, cacheRead: 200 } },
    });
    const gateway = await startGatewayProcess({
      overrides: { [REGIONAL]: fake.url, [GLOBAL]: fake.url },
      extraCaFile: fakeCa,
      configFile,
      env: { RECONDO_HMAC_KEY_FILE: hmacFile },
    });
    const client = Deno.createHttpClient({
      caCerts: [await Deno.readTextFile(gateway.caFile)],
      proxy: { url: gateway.proxyUrl },
    });
    const post = (host: string, path: string, body: string) =>
      fetch(`https://${host}${path}`, {
        method: "POST",
        client,
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body,
      });
    try {
      const claude = await post(REGIONAL, CLAUDE_PATH, claudeBody("hello claude"));
      assert.equal(claude.status, 200);
      assert.match(await claude.text(), /event: message_stop/);
      const gemini = await post(GLOBAL, GEMINI_PATH, geminiBody);
      assert.equal(gemini.status, 200);
      assert.match(await gemini.text(), /"finishReason":"STOP"/);

      // The answer failed, so only the path names the model.
      fake.setBehavior({ failStatus: 529 });
      const failed = await post(REGIONAL, CLAUDE_PATH, claudeBody("hello again"));
      assert.equal(failed.status, 529);
      await failed.body?.cancel();
      fake.setBehavior({ failStatus: undefined });

      // Blocks: Anthropic's error JSON for rawPredict, Google's for Gemini; neither reaches the provider.
      const seen = fake.requests.length;
      const blockedClaude = await post(
        REGIONAL,
        CLAUDE_PATH.replace("claude-sonnet-4-5@20250929", "claude-opus-4-1@20250805"),
        claudeBody("blocked"),
      );
      assert.equal(blockedClaude.status, 400);
      assert.deepEqual(await blockedClaude.json(), {
        type: "error",
        error: { type: "invalid_request_error", message: "RECONDO-BLOCKED" },
      });
      const blockedGemini = await post(
        GLOBAL,
        GEMINI_PATH.replace("gemini-2.5-flash", "gemini-2.5-pro"),
        geminiBody,
      );
      assert.equal(blockedGemini.status, 400);
      assert.deepEqual(await blockedGemini.json(), {
        error: { code: 400, message: "RECONDO-BLOCKED", status: "INVALID_ARGUMENT" },
      });
      assert.equal(fake.requests.length, seen, "a blocked request reached the provider");
      assert.ok(
        fake.requests.every((r) => r.headers.get("authorization") === `Bearer ${TOKEN}`),
        "the token still goes upstream",
      );

      await gateway.stop({ keepDataDir: true });
      const db = new DatabaseSync(join(gateway.dataDir, "recondo.db"), { readOnly: true });
      try {
        const turns = db.prepare(
          "SELECT provider, api, model, status, developer, team, api_key_hash, input_tokens, output_tokens, cache_read_tokens, cost_usd FROM turns ORDER BY started_at",
        ).all() as Record<string, unknown>[];
        const ok = turns.filter((t) => t.status === 200);
        assert.deepEqual(
          ok.map((t) => [t.provider, t.api, t.model, t.input_tokens, t.output_tokens, t.cache_read_tokens]),
          [
            ["anthropic", "anthropic.messages", "claude-sonnet-4-5@20250929", 1000, 50, 200],
            ["google", "google.stream_generate", "gemini-2.5-flash", 1000, 50, 200],
          ],
        );
        for (const turn of ok) {
          assert.ok(typeof turn.cost_usd === "number" && turn.cost_usd > 0, `cost of ${turn.model}`);
        }
        const failedTurn = turns.find((t) => t.status === 529);
        assert.equal(failedTurn?.model, "claude-sonnet-4-5@20250929");
        for (const turn of turns) {
          assert.deepEqual([turn.developer, turn.team, turn.api_key_hash], ["dana", "platform", tokenHash]);
        }
      } finally {
        db.close();
      }
      const needle = new TextEncoder().encode(TOKEN.slice("ya29.".length));
      for await (const [path, bytes] of filesUnder(gateway.dataDir)) {
        assert.ok(!contains(bytes, needle), `the access token is stored in clear in ${path}`);
      }
    } finally {
      client.close();
      await gateway.stop().catch(() => {});
      await fake.close();
      await Deno.remove(gateway.dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
