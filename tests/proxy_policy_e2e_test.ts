/**
 * The policy chain through the real proxy: block answers in each provider's own error format, fail
 * closed/open, observe mode, hot reload, and what happens when the upstream fails or the client leaves.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestGateway, startUpstream } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const ALL_PROVIDERS = ["api.anthropic.com", "api.openai.com", "generativelanguage.googleapis.com"];

function overridesTo(origin: string): Record<string, string> {
  return Object.fromEntries(ALL_PROVIDERS.map((host) => [host, origin]));
}

Deno.test({
  name: "block-list answers in each provider's own error format and never reaches the upstream",
  ...SANITIZE,
  async fn() {
    let upstreamCalls = 0;
    await using upstream = startUpstream(() => {
      upstreamCalls++;
      return new Response("should not be reached");
    });
    const config = {
      policies: [{ use: "block-list", options: { models: ["claude-opus-*", "gpt-4*", "gemini-*-pro"] } }],
    };
    await using gw = await startTestGateway({ config, overrides: overridesTo(upstream.origin) });
    const anthropic = await fetch("https://api.anthropic.com/v1/messages", {
      method: "POST",
      client: gw.client,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-opus-4-1", messages: [] }),
    });
    assert.equal(anthropic.status, 400);
    const a = await anthropic.json();
    assert.equal(a.type, "error");
    assert.equal(a.error.type, "invalid_request_error");
    assert.match(a.error.message, /model claude-opus-4-1/);

    const openai = await fetch("https://api.openai.com/v1/responses", {
      method: "POST",
      client: gw.client,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4.1", input: "hi" }),
    });
    assert.equal(openai.status, 400);
    const o = await openai.json();
    assert.equal(o.error.type, "invalid_request_error");
    assert.match(o.error.message, /model gpt-4\.1/);

    const google = await fetch(
      "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
      {
        method: "POST",
        client: gw.client,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ contents: [] }),
      },
    );
    assert.equal(google.status, 400);
    const g = await google.json();
    assert.deepEqual([g.error.code, g.error.status], [400, "INVALID_ARGUMENT"]);
    assert.match(g.error.message, /model gemini-2\.5-pro/);

    const allowed = await fetch("https://api.anthropic.com/v1/messages", {
      method: "POST",
      client: gw.client,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [] }),
    });
    assert.equal(await allowed.text(), "should not be reached");
    assert.equal(upstreamCalls, 1);
  },
});

Deno.test({
  name:
    "a policy that throws fails closed by default and open when configured, and observe mode only records",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream(() => new Response("upstream-ok"));
    const dir = await Deno.makeTempDir();
    const modulePath = join(dir, "explode.ts");
    await Deno.writeTextFile(
      modulePath,
      `export default { name: "explode", description: "throws", options: { safeParse: (v) => ({ success: true, data: v }) },
        create: () => ({ name: "explode", onRequest() { throw new Error("kaboom"); } }) };`,
    );
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      sink,
      config: { policies: [{ use: modulePath }] },
      overrides: overridesTo(upstream.origin),
    });
    const closed = await fetch("https://api.openai.com/v1/responses", {
      method: "POST",
      body: "{}",
      client: gw.client,
    });
    assert.equal(closed.status, 503);
    assert.match(
      (await closed.json()).error.message,
      /policy "explode" could not decide \(kaboom\); it fails closed/,
    );

    await gw.writeConfig({ listen: "127.0.0.1:0", policies: [{ use: modulePath, failMode: "open" }] });
    assert.deepEqual(await gw.reload(), { ok: true });
    const open = await fetch("https://api.openai.com/v1/responses", {
      method: "POST",
      body: "{}",
      client: gw.client,
    });
    assert.equal(await open.text(), "upstream-ok");

    await gw.writeConfig({
      listen: "127.0.0.1:0",
      policies: [{ use: "block-list", mode: "observe", options: { providers: ["openai"] } }],
    });
    assert.deepEqual(await gw.reload(), { ok: true });
    const observed = await fetch("https://api.openai.com/v1/responses", {
      method: "POST",
      body: "{}",
      client: gw.client,
    });
    assert.equal(await observed.text(), "upstream-ok");
    const done = await sink.waitFor(3);
    const last = done.at(-1)!.exchange;
    assert.deepEqual(last.decisions.map((d) => [d.policy, d.kind, d.enforced]), [[
      "block-list",
      "block",
      false,
    ]]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "a bad config on reload keeps the running chain and says why",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream(() => new Response("upstream-ok"));
    const config = { policies: [{ use: "block-list", options: { providers: ["openai"] } }] };
    await using gw = await startTestGateway({ config, overrides: overridesTo(upstream.origin) });
    await gw.writeConfig({
      listen: "127.0.0.1:0",
      policies: [{ use: "block-list", options: { providers: "openai" } }],
    });
    const result = await gw.reload();
    assert.equal(result.ok, false);
    assert.match(
      !result.ok ? result.reason : "",
      /policies\[0\] \("block-list"\): options\.providers expected array/,
    );
    const res = await fetch("https://api.openai.com/v1/models", { client: gw.client });
    assert.equal(res.status, 400);
    await res.body?.cancel();
  },
});

Deno.test({
  name: "the chain reloads by itself when the config file changes",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream(() => new Response("upstream-ok"));
    await using gw = await startTestGateway({ watch: true, overrides: overridesTo(upstream.origin) });
    assert.equal(
      await (await fetch("https://api.openai.com/v1/models", { client: gw.client })).text(),
      "upstream-ok",
    );
    await gw.writeConfig({
      listen: "127.0.0.1:0",
      policies: [{ use: "block-list", options: { hosts: ["api.openai.com"] } }],
    });
    const deadline = Date.now() + 5000;
    while (gw.chain().entries.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const res = await fetch("https://api.openai.com/v1/models", { client: gw.client });
    assert.equal(res.status, 400);
    await res.body?.cancel();
  },
});

Deno.test({
  name: "an unreachable upstream becomes a 502 in the provider's error format",
  ...SANITIZE,
  async fn() {
    const closedPort = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (closedPort.addr as Deno.NetAddr).port;
    closedPort.close();
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      sink,
      overrides: { "api.anthropic.com": `http://127.0.0.1:${port}` },
    });
    const res = await fetch("https://api.anthropic.com/v1/messages", {
      method: "POST",
      body: "{}",
      client: gw.client,
    });
    assert.equal(res.status, 502);
    const body = await res.json();
    assert.equal(body.type, "error");
    assert.equal(body.error.type, "api_error");
    const [captured] = await sink.waitFor(1);
    assert.equal(captured.exchange.outcome, "upstream-error");
  },
});

Deno.test({
  name: "a client leaving mid-stream cancels the upstream stream",
  ...SANITIZE,
  async fn() {
    let upstreamCancelled: () => void = () => {};
    const cancelled = new Promise<void>((resolve) => (upstreamCancelled = resolve));
    await using upstream = startUpstream(() => {
      let timer: ReturnType<typeof setInterval>;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          timer = setInterval(() => controller.enqueue(new TextEncoder().encode("data: {}\n\n")), 20);
        },
        cancel() {
          clearInterval(timer);
          upstreamCancelled();
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    });
    const sink = new MemorySink();
    await using gw = await startTestGateway({ sink, overrides: { "api.anthropic.com": upstream.origin } });
    const abort = new AbortController();
    const res = await fetch("https://api.anthropic.com/v1/messages", {
      method: "POST",
      body: "{}",
      client: gw.client,
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    await reader.cancel().catch(() => {});
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 5000));
    assert.equal(await Promise.race([cancelled.then(() => "cancelled"), timeout]), "cancelled");
    const [captured] = await sink.waitFor(1);
    assert.equal(captured.exchange.outcome, "client-aborted");
  },
});

Deno.test({
  name: "a request body larger than the inspection limit is refused with 413 when a policy needs it",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream(() => new Response("upstream-ok"));
    const config = {
      limits: { maxBufferedBodyBytes: 1024 },
      policies: [{ use: "block-list", options: { models: ["nothing-matches"] } }],
    };
    await using gw = await startTestGateway({ config, overrides: overridesTo(upstream.origin) });
    const res = await fetch("https://api.anthropic.com/v1/messages", {
      method: "POST",
      body: "x".repeat(4096),
      client: gw.client,
    });
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.type, "request_too_large");
  },
});

Deno.test({
  name: "route falls back to the next upstream on 429/5xx before any byte reached the client",
  ...SANITIZE,
  async fn() {
    const seen: string[] = [];
    await using busy = startUpstream(async (req) => {
      seen.push(`busy:${await req.text()}`);
      return new Response('{"type":"error"}', { status: 529 });
    });
    await using healthy = startUpstream(async (req) => {
      seen.push(`healthy:${await req.text()}`);
      return new Response("from-healthy");
    });
    const sink = new MemorySink();
    const config = {
      policies: [{
        use: "route",
        options: {
          rules: [{ match: { provider: "anthropic" }, upstream: busy.origin, fallback: [healthy.origin] }],
        },
      }],
    };
    await using gw = await startTestGateway({ sink, config });
    const body = JSON.stringify({ model: "claude-sonnet-4-5", messages: [] });
    const res = await fetch("https://api.anthropic.com/v1/messages", {
      method: "POST",
      body,
      client: gw.client,
    });
    assert.equal(await res.text(), "from-healthy");
    assert.deepEqual(seen, [`busy:${body}`, `healthy:${body}`]);
    const [captured] = await sink.waitFor(1);
    assert.equal(captured.exchange.target.upstreamOrigin, healthy.origin);
    assert.ok(
      captured.exchange.decisions.some((d) =>
        d.reason.startsWith(`fell back to ${healthy.origin} after ${busy.origin} (529)`)
      ),
    );
  },
});

Deno.test({
  name: "capture receives an exchange only after its end hooks ran, for blocked and completed exchanges",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream(() => new Response("upstream-ok"));
    const dir = await Deno.makeTempDir();
    const modulePath = join(dir, "slow_end.ts");
    await Deno.writeTextFile(
      modulePath,
      `export default { name: "slow-end", description: "fails late", options: { safeParse: (v) => ({ success: true, data: v }) },
        create: () => ({ name: "slow-end", async onEnd() { await new Promise((r) => setTimeout(r, 100)); throw new Error("late"); } }) };`,
    );
    const sink = new MemorySink();
    const config = {
      policies: [{ use: modulePath }, { use: "block-list", options: { paths: ["/v1/blocked"] } }],
    };
    await using gw = await startTestGateway({ sink, config, overrides: overridesTo(upstream.origin) });
    try {
      for (const path of ["/v1/blocked", "/v1/allowed"]) {
        await (await fetch(`https://api.openai.com${path}`, { client: gw.client })).text();
      }
      const done = await sink.waitFor(2);
      for (const d of done) {
        assert.ok(
          d.exchange.decisions.some((x) => x.policy === "slow-end" && x.hook === "end" && x.kind === "error"),
          `${d.exchange.request.path}: ${JSON.stringify(d.exchange.decisions)}`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
