/**
 * Non-streaming answers of declared length are read whole before the client gets them
 * (proxy/response_relay.ts `relayBody`); the idle timeout and the exchange's outcome must hold there too.
 */
import assert from "node:assert/strict";
import { providerParsers } from "../cli/wiring.ts";
import { startTestGateway } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

/** A raw HTTP/1.1 upstream that declares `declared` bytes, sends `sent` of them, then falls silent. */
function stallingUpstream(declared: number, sent: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      await conn.read(new Uint8Array(65536));
      await conn.write(new TextEncoder().encode(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n${sent}`,
      ));
    }
  })().catch(() => {});
  return {
    origin: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    [Symbol.dispose]() {
      listener.close();
      for (const conn of conns) conn.close();
    },
  };
}

Deno.test({
  name: "a JSON answer that stops halfway through its content-length is cut by the idle timeout",
  ...SANITIZE,
  async fn() {
    using upstream = stallingUpstream(100, '{"id":"half');
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      sink,
      config: { upstream: { idleTimeoutMs: 300 } },
      overrides: { "api.openai.com": upstream.origin },
    });
    const started = Date.now();
    const res = await fetch("https://api.openai.com/v1/chat/completions", {
      method: "POST",
      client: gw.client,
      body: JSON.stringify({ model: "gpt-5", messages: [] }),
    });
    // Nothing had reached the client, so it gets a gateway error it can act on, not a broken 200.
    assert.equal(res.status, 502);
    assert.match((await res.json()).error.message, /broke off: no bytes from upstream for 300 ms/);
    const [done] = await sink.waitFor(1);
    assert.equal(done.exchange.outcome, "upstream-error");
    assert.equal(done.exchange.response?.status, 502);
    assert.ok(done.exchange.errors.some((e) => e.includes("no bytes from upstream for 300 ms")));
    assert.ok(Date.now() - started < 3000, "cut by the idle timeout, not a later one");
  },
});

Deno.test({
  name: "a complete JSON answer reaches the client and capture once, with its usage parsed",
  ...SANITIZE,
  async fn() {
    const answer = JSON.stringify({
      id: "chatcmpl-1",
      object: "chat.completion",
      model: "gpt-5",
      choices: [{ index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 },
    });
    using upstream = stallingUpstream(new TextEncoder().encode(answer).length, answer);
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      sink,
      parsers: providerParsers,
      overrides: { "api.openai.com": upstream.origin },
    });
    const res = await fetch("https://api.openai.com/v1/chat/completions", {
      method: "POST",
      client: gw.client,
      body: JSON.stringify({ model: "gpt-5", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(await res.text(), answer);
    const [done] = await sink.waitFor(1);
    assert.equal(done.exchange.outcome, "complete");
    assert.equal(new TextDecoder().decode(done.response), answer);
    assert.equal(done.parsed?.response?.usage?.output, 2);
  },
});
