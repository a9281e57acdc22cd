/**
 * The upstream side: a private upstream CA through `RECONDO_EXTRA_CA_CERTS`, chaining through another
 * proxy, and idle (not total) timeouts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeTestCertificate } from "./fake_provider/tls.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { startTestGateway, startUpstream } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const MESSAGE = { model: "claude-sonnet-4-5", max_tokens: 20, messages: [{ role: "user", content: "hi" }] };

/** The fake provider over HTTPS under a private CA, written to a PEM file as a corporate root would be. */
async function startPrivateUpstream() {
  const material = makeTestCertificate();
  const fake = await startFakeProvider({ tls: { cert: material.cert, key: material.key } });
  const dir = await Deno.makeTempDir();
  const caFile = join(dir, "corp-root.pem");
  await Deno.writeTextFile(caFile, material.caCert);
  return {
    fake,
    caFile,
    async [Symbol.asyncDispose]() {
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test({
  name: "an HTTPS upstream signed by a private CA is trusted only through RECONDO_EXTRA_CA_CERTS",
  ...SANITIZE,
  async fn() {
    await using upstream = await startPrivateUpstream();
    const { fake, caFile } = upstream;
    {
      const overrides = { "api.anthropic.com": fake.url };
      const post = (client: Deno.HttpClient) =>
        fetch("https://api.anthropic.com/v1/messages", {
          method: "POST",
          client,
          body: JSON.stringify(MESSAGE),
        });
      {
        await using untrusting = await startTestGateway({ overrides });
        const res = await post(untrusting.client);
        assert.equal(res.status, 502);
        await res.body?.cancel();
      }
      await using trusting = await startTestGateway({ overrides, env: { RECONDO_EXTRA_CA_CERTS: caFile } });
      const res = await post(trusting.client);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /RECONDO-FAKE-OK/);
    }
  },
});

Deno.test({
  name: "upstream traffic can be chained through a corporate proxy",
  ...SANITIZE,
  async fn() {
    await using upstream = await startPrivateUpstream();
    const { fake, caFile } = upstream;
    {
      // The "corporate proxy" is a second gateway: 127.0.0.1 is not intercepted there, so it tunnels.
      await using corporate = await startTestGateway();
      await using gw = await startTestGateway({
        config: { upstream: { proxy: corporate.proxyUrl } },
        overrides: { "api.anthropic.com": fake.url },
        env: { RECONDO_EXTRA_CA_CERTS: caFile },
      });
      const res = await fetch("https://api.anthropic.com/v1/messages", {
        method: "POST",
        client: gw.client,
        body: JSON.stringify(MESSAGE),
      });
      assert.match(await res.text(), /RECONDO-FAKE-OK/);
      const metrics = await (await fetch(`${corporate.proxyUrl}/metrics`)).text();
      assert.match(metrics, /recondo_connections_total\{kind="tunnel"\} [1-9]/);
    }
  },
});

Deno.test({
  name: "a stream that keeps sending outlives the idle timeout, a silent one is cut by it",
  ...SANITIZE,
  async fn() {
    const chunks = (count: number, gapMs: number, thenStall: boolean) =>
      new ReadableStream<Uint8Array>({
        async start(controller) {
          for (let i = 0; i < count; i++) {
            controller.enqueue(new TextEncoder().encode(`data: ${i}\n\n`));
            await new Promise((r) => setTimeout(r, gapMs));
          }
          if (!thenStall) controller.close();
        },
      });
    await using upstream = startUpstream((req) => {
      const stall = new URL(req.url).pathname.includes("stall");
      return new Response(chunks(stall ? 2 : 8, 100, stall), {
        headers: { "content-type": "text/event-stream" },
      });
    });
    const sink = new MemorySink();
    const config = { upstream: { idleTimeoutMs: 400 } };
    await using gw = await startTestGateway({
      sink,
      config,
      overrides: { "api.openai.com": upstream.origin },
    });
    // 8 chunks 100 ms apart: 800 ms in all, twice the idle timeout, and complete.
    const flowing = await fetch("https://api.openai.com/v1/flowing", { client: gw.client });
    assert.equal((await flowing.text()).match(/data: /g)?.length, 8);
    const stalled = await fetch("https://api.openai.com/v1/stall", { client: gw.client });
    await assert.rejects(() => stalled.text());
    const done = await sink.waitFor(2);
    assert.deepEqual(done.map((d) => d.exchange.outcome).sort(), ["complete", "upstream-error"]);
    assert.ok(
      done.some((d) => d.exchange.errors.some((e) => e.includes("no bytes from upstream for 400 ms"))),
    );
  },
});

Deno.test({
  name: "an upstream that never answers becomes a 504 after the headers timeout",
  ...SANITIZE,
  async fn() {
    const never = Promise.withResolvers<Response>();
    await using upstream = startUpstream(() => never.promise);
    await using gw = await startTestGateway({
      config: { upstream: { headersTimeoutMs: 300 } },
      overrides: { "generativelanguage.googleapis.com": upstream.origin },
    });
    const res = await fetch(
      "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
      {
        method: "POST",
        client: gw.client,
        body: "{}",
      },
    );
    assert.equal(res.status, 504);
    assert.equal((await res.json()).error.status, "DEADLINE_EXCEEDED");
    never.resolve(new Response("late"));
  },
});

Deno.test({
  name: "a gzip or br upstream body reaches client and capture decoded, without its encoding headers",
  ...SANITIZE,
  async fn() {
    const { gzipSync, brotliCompressSync } = await import("node:zlib");
    const text = JSON.stringify({ answer: "compressed ".repeat(200) });
    await using upstream = startUpstream((req) => {
      const br = new URL(req.url).pathname.endsWith("br");
      const body = br ? brotliCompressSync(text) : gzipSync(text);
      assert.match(req.headers.get("accept-encoding") ?? "", br ? /br/ : /gzip/);
      return new Response(new Uint8Array(body), {
        headers: { "content-encoding": br ? "br" : "gzip", "content-type": "application/json" },
      });
    });
    const sink = new MemorySink();
    await using gw = await startTestGateway({ sink, overrides: { "api.openai.com": upstream.origin } });
    for (const path of ["/v1/gz", "/v1/br"]) {
      const res = await fetch(`https://api.openai.com${path}`, {
        client: gw.client,
        headers: { "accept-encoding": "identity" },
      });
      assert.equal(res.headers.get("content-encoding"), null);
      assert.equal(await res.text(), text);
    }
    const done = await sink.waitFor(2);
    for (const d of done) assert.equal(new TextDecoder().decode(d.response), text);
  },
});
