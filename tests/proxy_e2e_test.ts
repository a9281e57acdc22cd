/**
 * End-to-end through the real proxy with real TLS on loopback: fetch and curl through it, streaming,
 * the blind tunnel, proxy auth, and health/metrics endpoints.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rawExchange, startTestGateway, startUpstream } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "an intercepted POST reaches the upstream with the real Host and comes back unchanged",
  ...SANITIZE,
  async fn() {
    const seen: { host: string | null; body: string; auth: string | null; path: string }[] = [];
    await using upstream = startUpstream(async (req) => {
      seen.push({
        host: req.headers.get("host"),
        body: await req.text(),
        auth: req.headers.get("x-api-key"),
        path: new URL(req.url).pathname + new URL(req.url).search,
      });
      return Response.json({ id: "msg_1", content: [{ type: "text", text: "hello" }] });
    });
    await using gw = await startTestGateway({ overrides: { "api.anthropic.com": upstream.origin } });
    const res = await fetch("https://api.anthropic.com/v1/messages?beta=true", {
      method: "POST",
      client: gw.client,
      headers: { "content-type": "application/json", "x-api-key": "sk-ant-test" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [] }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: "msg_1", content: [{ type: "text", text: "hello" }] });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].host, "api.anthropic.com");
    assert.equal(seen[0].path, "/v1/messages?beta=true");
    assert.equal(seen[0].auth, "sk-ant-test");
    assert.equal(JSON.parse(seen[0].body).model, "claude-sonnet-4-5");
  },
});

Deno.test({
  name: "SSE events reach the client one by one while the upstream is still streaming",
  ...SANITIZE,
  async fn() {
    const events = 6;
    const sentAt: number[] = [];
    await using upstream = startUpstream(() => {
      let i = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (i === events) return controller.close();
          await new Promise((r) => setTimeout(r, 50));
          sentAt.push(performance.now());
          controller.enqueue(new TextEncoder().encode(`event: ping\ndata: {"n":${i++}}\n\n`));
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    });
    await using gw = await startTestGateway({ overrides: { "api.anthropic.com": upstream.origin } });
    const res = await fetch("https://api.anthropic.com/v1/messages", {
      method: "POST",
      body: "{}",
      client: gw.client,
    });
    const reader = res.body!.getReader();
    const receivedAt: number[] = [];
    let text = "";
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = new TextDecoder().decode(value);
      for (const _ of chunk.matchAll(/data: /g)) receivedAt.push(performance.now());
      text += chunk;
    }
    assert.equal(receivedAt.length, events, text);
    // Every event but the last arrived before the upstream sent the next one: nothing was held back.
    for (let i = 0; i < events - 1; i++) assert.ok(receivedAt[i] < sentAt[i + 1], `event ${i} was held back`);
  },
});

Deno.test({
  name: "curl through the proxy accepts the minted leaf and speaks h2 and http/1.1",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream((req) => new Response(`proto-ok ${req.method}`));
    await using gw = await startTestGateway({ overrides: { "api.openai.com": upstream.origin } });
    const caFile = join(gw.dataDir, "ca", "ca.crt");
    for (const flag of ["--http2", "--http1.1"]) {
      const out = await new Deno.Command("curl", {
        args: [
          "-sS",
          flag,
          "--proxy",
          gw.proxyUrl,
          "--cacert",
          caFile,
          "-w",
          "\n%{http_version}",
          "https://api.openai.com/v1/models",
        ],
      }).output();
      const [body, version] = new TextDecoder().decode(out.stdout).split("\n");
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.equal(body, "proto-ok GET");
      assert.equal(version, flag === "--http2" ? "2" : "1.1");
    }
  },
});

Deno.test({
  name: "hosts outside the intercept list get a blind tunnel, or a 403 when config refuses them",
  ...SANITIZE,
  async fn() {
    const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    (async () => {
      for await (const conn of echo) {
        (async () => {
          const buf = new Uint8Array(1024);
          const n = await conn.read(buf);
          if (n) await conn.write(buf.subarray(0, n));
          conn.close();
        })();
      }
    })();
    const port = (echo.addr as Deno.NetAddr).port;
    await using gw = await startTestGateway();
    const tunnelled = await rawExchange(
      gw.port,
      `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\nhello-tunnel`,
    );
    assert.match(tunnelled, /^HTTP\/1\.1 200 Connection Established\r\n\r\nhello-tunnel$/);
    await gw.writeConfig({ listen: "127.0.0.1:0", otherHosts: "refuse" });
    assert.deepEqual(await gw.reload(), { ok: true });
    const refused = await rawExchange(gw.port, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`);
    assert.match(refused, /^HTTP\/1\.1 403 /);
    echo.close();
  },
});

Deno.test({
  name: "proxy authentication answers 407 without valid credentials and attributes the developer with them",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream(() => new Response("ok"));
    const config = {
      requireProxyAuth: true,
      developers: [{ name: "alice", team: "alpha", token: "alice-secret-token" }],
    };
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      config,
      sink,
      overrides: { "api.openai.com": upstream.origin },
    });
    const missing = await rawExchange(gw.port, "CONNECT api.openai.com:443 HTTP/1.1\r\n\r\n");
    assert.match(missing, /^HTTP\/1\.1 407 /);
    assert.match(missing, /Proxy-Authenticate: Basic realm="recondo"/);
    const wrong = btoa("alice:not-the-token");
    assert.match(
      await rawExchange(
        gw.port,
        `CONNECT api.openai.com:443 HTTP/1.1\r\nProxy-Authorization: Basic ${wrong}\r\n\r\n`,
      ),
      /^HTTP\/1\.1 407 /,
    );
    const client = Deno.createHttpClient({
      caCerts: [gw.caPem],
      proxy: { url: gw.proxyUrl, basicAuth: { username: "alice", password: "alice-secret-token" } },
    });
    try {
      const res = await fetch("https://api.openai.com/v1/models", { client });
      assert.equal(await res.text(), "ok");
      const [captured] = await sink.waitFor(1);
      assert.deepEqual(
        {
          developer: captured.exchange.client.developer,
          team: captured.exchange.client.team,
          via: captured.exchange.client.via,
        },
        { developer: "alice", team: "alpha", via: "proxy-auth" },
      );
    } finally {
      client.close();
    }
  },
});

Deno.test({
  name: "healthz and metrics answer on the proxy port",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream(() => new Response("ok"));
    await using gw = await startTestGateway({ overrides: { "api.openai.com": upstream.origin } });
    await (await fetch("https://api.openai.com/v1/models", { client: gw.client })).text();
    const health = await fetch(`http://127.0.0.1:${gw.port}/healthz`);
    assert.deepEqual(await health.json(), { status: "ok" });
    const metrics = await (await fetch(`http://127.0.0.1:${gw.port}/metrics`)).text();
    assert.match(metrics, /recondo_exchanges_total\{provider="openai",status="200",outcome="complete"\} 1/);
    assert.match(metrics, /recondo_connections_total\{kind="intercept"\} 1/);
    assert.match(metrics, /recondo_upstream_first_byte_seconds_bucket/);
  },
});

Deno.test({
  name: "without proxy auth, a developer is attributed by the keyed hash of their API key",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream(() => new Response("ok"));
    const sink = new MemorySink();
    await using gw = await startTestGateway({ sink, overrides: { "api.anthropic.com": upstream.origin } });
    const hash = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname, "key-hash"],
      env: { RECONDO_DATA_DIR: gw.dataDir, RECONDO_LOG: "warn" },
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = hash.stdin.getWriter();
    await writer.write(new TextEncoder().encode("sk-ant-bob-key"));
    await writer.close();
    const keyHash = new TextDecoder().decode((await hash.output()).stdout).trim();
    assert.match(keyHash, /^[0-9a-f]{64}$/);
    await gw.writeConfig({
      listen: "127.0.0.1:0",
      developers: [{ name: "bob", team: "beta", apiKeyHashes: [keyHash] }],
    });
    assert.deepEqual(await gw.reload(), { ok: true });
    for (const key of ["sk-ant-bob-key", "sk-ant-someone-else"]) {
      await (await fetch("https://api.anthropic.com/v1/messages", {
        method: "POST",
        body: "{}",
        headers: { "x-api-key": key },
        client: gw.client,
      })).text();
    }
    const done = await sink.waitFor(2);
    assert.deepEqual(done.map((d) => [d.exchange.client.developer, d.exchange.client.via]), [[
      "bob",
      "api-key",
    ], [null, "address"]]);
  },
});
