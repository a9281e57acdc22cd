/**
 * The proxy with the real provider parsers against the fake provider: what capture receives carries the
 * parsed response and the provider's exact usage, and event hooks can stop a stream mid-way.
 */
import assert from "node:assert/strict";
import { EventStreamDecoder } from "../providers/bedrock_event_stream.ts";
import { join } from "node:path";
import { providerParsers } from "../cli/wiring.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { startTestGateway } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "each provider's streamed answer reaches capture parsed, with the usage the provider reported",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider({
      behavior: { answer: ["Hello", " from", " fake"], usage: { input: 40, output: 9, cacheRead: 12 } },
    });
    const sink = new MemorySink();
    const overrides = {
      "api.anthropic.com": fake.url,
      "api.openai.com": fake.url,
      "generativelanguage.googleapis.com": fake.url,
    };
    await using gw = await startTestGateway({ sink, parsers: providerParsers, overrides });
    try {
      const requests: [string, unknown][] = [
        ["https://api.anthropic.com/v1/messages?beta=true", {
          model: "claude-sonnet-4-5",
          stream: true,
          max_tokens: 100,
          messages: [{ role: "user", content: "hi" }],
        }],
        ["https://api.openai.com/v1/responses", { model: "gpt-5", stream: true, input: "hi" }],
        [
          "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
          { contents: [{ role: "user", parts: [{ text: "hi" }] }] },
        ],
      ];
      for (const [url, body] of requests) {
        const res = await fetch(url, {
          method: "POST",
          client: gw.client,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 200, url);
        assert.match(await res.text(), /Hello/);
      }
      const done = await sink.waitFor(3);
      const byApi = Object.fromEntries(done.map((d) => [d.exchange.api, d.parsed?.response]));
      for (const api of ["anthropic.messages", "openai.responses", "google.stream_generate"]) {
        const parsed = byApi[api];
        assert.ok(parsed, `no parsed response for ${api}`);
        assert.equal(parsed.text, "Hello from fake", api);
        assert.equal(parsed.partial, false, api);
        // One meaning across providers: `input` excludes cached tokens, whatever the wire format did.
        assert.deepEqual(
          {
            input: parsed.usage?.input,
            cacheRead: parsed.usage?.cacheRead,
            output: parsed.usage?.output,
            estimated: parsed.usage?.estimated,
          },
          { input: 40, cacheRead: 12, output: 9, estimated: false },
          api,
        );
      }
    } finally {
      await fake.close();
    }
  },
});

/** A policy module whose event hook blocks the answer at the word FORBIDDEN; returns its path. */
async function writeGuardModule(dir: string): Promise<string> {
  const modulePath = join(dir, "guard.ts");
  await Deno.writeTextFile(
    modulePath,
    `export default { name: "guard", description: "stops on a word", options: { safeParse: (v) => ({ success: true, data: v }) },
      create: () => ({ name: "guard", onEvent(_ex, event) {
        return event.type === "text_delta" && event.text.includes("FORBIDDEN")
          ? { kind: "block", status: 400, reason: "the answer contained a forbidden word" } : { kind: "allow" };
      } }) };`,
  );
  return modulePath;
}

Deno.test({
  name: "an event hook that blocks ends the stream with an error event in the provider's format",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider({
      behavior: { answer: ["safe text ", "FORBIDDEN ", "more"], eventDelayMs: 20 },
    });
    const dir = await Deno.makeTempDir();
    const modulePath = await writeGuardModule(dir);
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      sink,
      parsers: providerParsers,
      config: { policies: [{ use: modulePath }] },
      overrides: { "api.anthropic.com": fake.url },
    });
    try {
      const res = await fetch("https://api.anthropic.com/v1/messages", {
        method: "POST",
        client: gw.client,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "claude-sonnet-4-5",
          stream: true,
          max_tokens: 50,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      const text = await res.text();
      assert.match(text, /safe text/);
      assert.doesNotMatch(text, /FORBIDDEN/);
      assert.match(
        text,
        /event: error\ndata: \{"type":"error","error":\{"type":"invalid_request_error","message":"the answer contained a forbidden word"\}\}/,
      );
      const [captured] = await sink.waitFor(1);
      assert.equal(captured.exchange.outcome, "blocked");
      assert.deepEqual(captured.exchange.decisions.map((d) => [d.policy, d.hook, d.kind]), [[
        "guard",
        "event",
        "block",
      ]]);
    } finally {
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "an event hook that blocks a Bedrock stream ends it with an AWS exception frame, as Bedrock does",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider({
      behavior: { answer: ["safe text ", "FORBIDDEN ", "more"], eventDelayMs: 20 },
    });
    const dir = await Deno.makeTempDir();
    const modulePath = await writeGuardModule(dir);
    const host = "bedrock-runtime.us-east-1.amazonaws.com";
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      sink,
      parsers: providerParsers,
      config: { policies: [{ use: modulePath }] },
      overrides: { [host]: fake.url },
    });
    try {
      const model = encodeURIComponent("us.anthropic.claude-sonnet-4-5-20250929-v1:0");
      const res = await fetch(`https://${host}/model/${model}/invoke-with-response-stream`, {
        method: "POST",
        client: gw.client,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          anthropic_version: "bedrock-2023-05-31",
          max_tokens: 50,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      assert.equal(res.status, 200);
      const frames = new EventStreamDecoder().push(new Uint8Array(await res.arrayBuffer())).messages;
      const last = frames.at(-1)!;
      assert.deepEqual(
        [last.headers[":message-type"], last.headers[":exception-type"]],
        ["exception", "validationException"],
      );
      assert.match(new TextDecoder().decode(last.payload), /the answer contained a forbidden word/);
      const relayed = frames.slice(0, -1).map((f) => {
        const bytes = JSON.parse(new TextDecoder().decode(f.payload)).bytes as string;
        return new TextDecoder().decode(Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0)));
      }).join("");
      assert.match(relayed, /safe text/);
      assert.doesNotMatch(relayed, /FORBIDDEN/);
      const [captured] = await sink.waitFor(1);
      assert.equal(captured.exchange.outcome, "blocked");
    } finally {
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "each Responses turn on one WebSocket connection is captured as its own turn; the warm-up is not",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider({ behavior: { usage: { input: 30, output: 5 } } });
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      sink,
      parsers: providerParsers,
      overrides: { "api.openai.com": fake.url },
    });
    try {
      const ws = new WebSocket(
        "wss://api.openai.com/v1/responses",
        { client: gw.client } as unknown as string[],
      );
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      const completed: string[] = [];
      let wake = () => {};
      ws.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.type === "response.completed") {
          completed.push(message.response.id);
          wake();
        }
      };
      const send = async (body: Record<string, unknown>) => {
        const done = new Promise<void>((resolve) => (wake = resolve));
        ws.send(JSON.stringify({ type: "response.create", model: "gpt-5", ...body }));
        await done;
      };
      await send({ generate: false, input: [] });
      await send({ input: [{ role: "user", content: [{ type: "input_text", text: "first" }] }] });
      await send({
        input: [{ role: "user", content: [{ type: "input_text", text: "second" }] }],
        previous_response_id: completed[1],
      });
      ws.close();
      const done = await sink.waitFor(4);
      const turns = done.filter((d) => d.parsed !== null);
      assert.equal(turns.length, 2, JSON.stringify(done.map((d) => d.parsed)));
      for (const turn of turns) {
        assert.deepEqual([turn.parsed?.response?.usage?.input, turn.parsed?.response?.usage?.output], [
          30,
          5,
        ]);
        assert.equal(turn.exchange.api, "openai.responses_ws");
      }
      assert.deepEqual(turns.map((t) => t.parsed?.request?.userText), ["first", "second"]);
      const connection = done.find((d) => d.ws.length >= 6);
      assert.ok(connection, "the connection's whole transcript is recorded once");
    } finally {
      await fake.close();
    }
  },
});
