/**
 * Amazon Bedrock through `recondo serve` with the real wiring (parsers, capture on SQLite): a SigV4-signed
 * `InvokeModelWithResponseStream` and a `ConverseStream` reach the fake provider through the default
 * `bedrock-runtime.*.amazonaws.com` pattern, and their turns carry the fake's exact tokens, AWS's price for
 * the inference profile, a session, and the access key id only as a keyed hash. A block-list entry answers
 * in Bedrock's error format, and a redaction (a body modify) on a signed request becomes a block.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { hashApiKey } from "../capture/credentials.ts";
import { priceUsage } from "../providers/pricing.ts";
import { EventStreamDecoder } from "../providers/bedrock_event_stream.ts";
import { providerParsers } from "../cli/wiring.ts";
import { startGatewayProcess } from "./agents/gateway_process.ts";
import { startTestGateway } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { APP_PROFILE_MODEL } from "./fake_provider/bedrock.ts";
import { processClient, storedRows, writeTempConfig } from "./support/e2e.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const HOST = "bedrock-runtime.us-east-1.amazonaws.com";
const PROFILE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
const SIGNED = {
  "content-type": "application/json",
  "x-amz-date": "20261206T224000Z",
  "x-amz-security-token": "IQoJb3JpZ2luX2VjEXAMPLE-session-token",
  authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20261206/us-east-1/bedrock/aws4_request, ` +
    "SignedHeaders=content-type;host;x-amz-date, Signature=3f1b0c4e5d6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e",
};

function invokeBody(text: string): string {
  return JSON.stringify({
    anthropic_version: "bedrock-2023-05-31",
    max_tokens: 256,
    messages: [{ role: "user", content: [{ type: "text", text }] }],
  });
}

/** The Anthropic events inside an InvokeModelWithResponseStream body. */
function invokeEvents(bytes: Uint8Array): Record<string, unknown>[] {
  return new EventStreamDecoder().push(bytes).messages.map((m) => {
    const payload = JSON.parse(new TextDecoder().decode(m.payload));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload.bytes), (c) => c.charCodeAt(0))));
  });
}

async function waitForTurns(db: string, count: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 15_000;
  while (true) {
    try {
      const sqlite = new DatabaseSync(db, { readOnly: true });
      try {
        const rows = sqlite.prepare("SELECT * FROM turns ORDER BY started_at").all() as Record<
          string,
          unknown
        >[];
        if (rows.length >= count || Date.now() > deadline) return rows;
      } finally {
        sqlite.close();
      }
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test({
  name:
    "Bedrock invoke and converse streams are captured with exact tokens, AWS's price and a hashed access key id",
  ...SANITIZE,
  async fn() {
    const usage = { input: 1200, output: 75, cacheRead: 4000, cacheWrite: 300 };
    const fake = await startFakeProvider({ behavior: { answer: ["Hello ", "from Bedrock"], usage } });
    const gateway = await startGatewayProcess({ overrides: { [HOST]: fake.url } });
    try {
      const client = await processClient(gateway);
      const invoke = await fetch(
        `https://${HOST}/model/${encodeURIComponent(PROFILE)}/invoke-with-response-stream`,
        { method: "POST", client, headers: SIGNED, body: invokeBody("say hello") },
      );
      assert.equal(invoke.status, 200);
      assert.equal(invoke.headers.get("content-type"), "application/vnd.amazon.eventstream");
      const events = invokeEvents(new Uint8Array(await invoke.arrayBuffer()));
      assert.deepEqual(events.map((e) => e.type).at(-1), "message_stop");
      const converse = await fetch(`https://${HOST}/model/${encodeURIComponent(PROFILE)}/converse-stream`, {
        method: "POST",
        client,
        headers: SIGNED,
        body: JSON.stringify({ messages: [{ role: "user", content: [{ text: "and again" }] }] }),
      });
      const frames = new EventStreamDecoder().push(new Uint8Array(await converse.arrayBuffer())).messages;
      assert.deepEqual(frames.map((f) => f.headers[":event-type"]).at(-1), "metadata");
      client.close();

      const turns = await waitForTurns(join(gateway.dataDir, "recondo.db"), 2);
      assert.equal(turns.length, 2, gateway.logTail().join("\n"));
      const key = await Deno.readFile(join(gateway.dataDir, "keys", "hmac.key"));
      const expectedCost = priceUsage("bedrock", PROFILE, {
        input: 1200,
        output: 75,
        cacheRead: 4000,
        cacheWrite5m: 300,
        cacheWrite1h: 0,
        reasoning: 0,
        estimated: false,
      }, new Date());
      for (
        const [turn, api] of [[turns[0], "bedrock.invoke_stream"], [
          turns[1],
          "bedrock.converse_stream",
        ]] as const
      ) {
        assert.equal(turn.provider, "bedrock");
        assert.equal(turn.api, api);
        assert.equal(turn.model, PROFILE);
        assert.equal(turn.input_tokens, 1200);
        assert.equal(turn.output_tokens, 75);
        assert.equal(turn.cache_read_tokens, 4000);
        assert.equal(turn.api_key_hash, hashApiKey(key, ACCESS_KEY));
        assert.ok(typeof turn.session_id === "string" && turn.session_id.length > 0);
        assert.ok(
          Math.abs(Number(turn.cost_usd) - expectedCost.usd!) < 1e-9,
          `cost ${turn.cost_usd} vs ${expectedCost.usd}`,
        );
      }
      const stored = JSON.stringify(storedRows(gateway.dataDir, ["exchanges", "turns"]));
      for (const secret of [ACCESS_KEY, "Signature=", "IQoJb3JpZ2luX2Vj"]) {
        assert.ok(!stored.includes(secret), `${secret} was stored`);
      }
    } finally {
      await gateway.stop().catch(() => {});
      await fake.close();
    }
  },
});

Deno.test({
  name:
    "a block-list entry answers Bedrock in its own error format; a redaction of a signed body becomes a block",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider();
    await using config = await writeTempConfig({
      policies: [
        {
          use: "block-list",
          options: { models: ["*claude-3-opus*"], message: "Opus is not for you ({what})." },
        },
        { use: "redact-secrets" },
      ],
    });
    const gateway = await startGatewayProcess({ overrides: { [HOST]: fake.url }, configFile: config.path });
    try {
      const client = await processClient(gateway);
      const blocked = await fetch(
        `https://${HOST}/model/${encodeURIComponent("us.anthropic.claude-3-opus-20240229-v1:0")}/invoke`,
        { method: "POST", client, headers: SIGNED, body: invokeBody("hi") },
      );
      assert.equal(blocked.status, 400);
      assert.match(blocked.headers.get("x-amzn-errortype") ?? "", /^ValidationException/);
      assert.match((await blocked.json()).message, /^Opus is not for you \(model/);

      const secret = "ghp_" + "Zq8Rt2Lm5Nx7Pw3Ks9Vb4Hc6Jd1Fg0Ya2Eu7";
      const redacted = await fetch(
        `https://${HOST}/model/${encodeURIComponent(PROFILE)}/invoke-with-response-stream`,
        { method: "POST", client, headers: SIGNED, body: invokeBody(`deploy with token ${secret}`) },
      );
      assert.equal(redacted.status, 400);
      const message = (await redacted.json()).message as string;
      assert.match(message, /would modify this AWS SigV4-signed request/);
      assert.match(message, /would break its signature/);
      assert.equal(
        fake.requests.filter((r) => r.path.includes("/model/")).length,
        0,
        "nothing reached Bedrock",
      );
      client.close();
    } finally {
      await gateway.stop().catch(() => {});
      await fake.close();
    }
  },
});

Deno.test({
  name:
    "an application inference profile is seen as its model by policies, mapped or learned, and priced by the answer's model",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider();
    const profile = (id: string) =>
      `arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/${id}`;
    const invoke = (arn: string) => `https://${HOST}/model/${encodeURIComponent(arn)}/invoke`;
    await using config = await writeTempConfig({
      bedrock: { profiles: { [profile("mapped")]: "us.anthropic.claude-opus-4-1-20250805-v1:0" } },
      policies: [{ use: "block-list", options: { models: ["*claude-opus*", `${APP_PROFILE_MODEL}`] } }],
    });
    const gateway = await startGatewayProcess({ overrides: { [HOST]: fake.url }, configFile: config.path });
    try {
      const client = await processClient(gateway);
      const send = async (arn: string) => {
        const res = await fetch(invoke(arn), {
          method: "POST",
          client,
          headers: SIGNED,
          body: invokeBody("hi"),
        });
        return { status: res.status, body: await res.json() as { message?: string; model?: string } };
      };
      const mapped = await send(profile("mapped"));
      assert.equal(mapped.status, 400, JSON.stringify(mapped.body));
      assert.match(mapped.body.message!, /model us\.anthropic\.claude-opus-4-1/);

      // Unmapped: its first answer names the model it serves; from then on the profile is that model.
      const first = await send(profile("team-a"));
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.model, APP_PROFILE_MODEL);
      const second = await send(profile("team-a"));
      assert.equal(second.status, 400, JSON.stringify(second.body));
      assert.match(second.body.message!, new RegExp(`model ${APP_PROFILE_MODEL}`));
      client.close();

      // Three turns in order: the mapped profile blocked, team-a answered, team-a blocked.
      const turns = await waitForTurns(join(gateway.dataDir, "recondo.db"), 3);
      assert.deepEqual(turns.map((t) => t.outcome), ["blocked", "complete", "blocked"]);
      const turn = turns[1];
      assert.equal(turn.model, APP_PROFILE_MODEL, "the turn takes the answer's model, not the profile's id");
      assert.ok(Number(turn.cost_usd) > 0, `priced: ${JSON.stringify(turn)}`);
    } finally {
      await gateway.stop().catch(() => {});
      await fake.close();
    }
  },
});

Deno.test({
  name:
    "in observe mode a redaction of a SigV4-signed body is recorded only: the signed body reaches Bedrock unchanged",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider();
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      sink,
      parsers: providerParsers,
      config: { policies: [{ use: "redact-secrets", mode: "observe" }] },
      overrides: { [HOST]: fake.url },
    });
    try {
      const secret = "ghp_" + "Zq8Rt2Lm5Nx7Pw3Ks9Vb4Hc6Jd1Fg0Ya2Eu7";
      const body = invokeBody(`deploy with token ${secret}`);
      const res = await fetch(`https://${HOST}/model/${encodeURIComponent(PROFILE)}/invoke`, {
        method: "POST",
        client: gw.client,
        headers: SIGNED,
        body,
      });
      assert.equal(res.status, 200, await res.clone().text());
      await res.body?.cancel();
      const sent = fake.requests.filter((r) => r.path.includes("/model/"));
      assert.equal(sent.length, 1, "the request reached Bedrock");
      assert.equal(new TextDecoder().decode(sent[0].body), body, "its signed body unchanged");
      const [captured] = await sink.waitFor(1);
      const decision = captured.exchange.decisions.find((d) => d.policy === "redact-secrets");
      assert.ok(decision, JSON.stringify(captured.exchange.decisions));
      assert.deepEqual(
        [decision.kind, decision.enforced, decision.detail?.signedRequest],
        ["modify", false, "modify-recorded-only"],
      );
    } finally {
      await fake.close();
    }
  },
});
