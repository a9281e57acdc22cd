/**
 * Hostile and broken clients: each gets a clean error or close, and the proxy keeps serving everyone
 * else. Also the WebSocket relay (Codex's default transport).
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import net from "node:net";
import { rawExchange, startTestGateway, startUpstream } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

async function stillServes(gw: { client: Deno.HttpClient }): Promise<void> {
  const res = await fetch("https://api.openai.com/v1/models", { client: gw.client });
  assert.equal(await res.text(), "upstream-ok");
}

Deno.test({
  name: "malformed heads, huge heads and slow senders get 400, 431 and 408 while others are served",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream(() => new Response("upstream-ok"));
    const config = { limits: { maxHeaderBytes: 8192, headerTimeoutMs: 300 } };
    await using gw = await startTestGateway({ config, overrides: { "api.openai.com": upstream.origin } });
    assert.match(await rawExchange(gw.port, "CONNECT\r\n\r\n"), /^HTTP\/1\.1 400 /);
    assert.match(await rawExchange(gw.port, "CONNECT not a target HTTP/1.1\r\n\r\n"), /^HTTP\/1\.1 400 /);
    assert.match(
      await rawExchange(gw.port, "CONNECT api.openai.com:99999 HTTP/1.1\r\n\r\n"),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(await rawExchange(gw.port, "\x16\x03\x01garbage\r\n\r\n"), /^HTTP\/1\.1 400 /);
    const huge = `CONNECT api.openai.com:443 HTTP/1.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`;
    assert.match(await rawExchange(gw.port, huge), /^HTTP\/1\.1 431 /);
    const slow = await rawExchange(gw.port, "CONNECT api.openai.com:443 HTTP/1.1\r\n");
    assert.match(slow, /^HTTP\/1\.1 408 /);
    await stillServes(gw);
  },
});

Deno.test({
  name: "garbage after CONNECT and a TLS handshake for an unknown name are closed cleanly",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream(() => new Response("upstream-ok"));
    const config = { limits: { headerTimeoutMs: 500 } };
    await using gw = await startTestGateway({ config, overrides: { "api.openai.com": upstream.origin } });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: gw.port });
    await conn.write(new TextEncoder().encode("CONNECT api.openai.com:443 HTTP/1.1\r\n\r\n"));
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    assert.equal(
      new TextDecoder().decode(buffer.subarray(0, n!)),
      "HTTP/1.1 200 Connection Established\r\n\r\n",
    );
    await conn.write(new TextEncoder().encode("this is not TLS at all\r\n\r\n"));
    assert.equal(await conn.read(buffer), null, "the proxy closes a tunnel whose TLS is garbage");
    conn.close();
    // Garbage pipelined with the CONNECT itself: the tunnel is closed by the handshake timeout.
    const pipelined = await rawExchange(
      gw.port,
      "CONNECT api.openai.com:443 HTTP/1.1\r\n\r\nnot TLS either",
      3000,
    );
    assert.equal(pipelined, "HTTP/1.1 200 Connection Established\r\n\r\n");

    const handshake = await new Promise<string>((resolve) => {
      const socket = net.connect(
        gw.port,
        "127.0.0.1",
        () => socket.write("CONNECT api.openai.com:443 HTTP/1.1\r\n\r\n"),
      );
      socket.once("data", () => {
        const secure = tls.connect({ socket, servername: "evil.example.com", ca: gw.caPem });
        secure.once("secureConnect", () => resolve("connected"));
        secure.once("error", (error) => resolve(`error: ${error.message}`));
      });
    });
    assert.match(handshake, /^error: /);
    await stillServes(gw);
  },
});

Deno.test({
  name: "WebSocket frames, subprotocol and close code relay both ways and reach capture",
  ...SANITIZE,
  async fn() {
    const upstreamSeen: string[] = [];
    await using upstream = startUpstream((req) => {
      if (req.headers.get("upgrade") !== "websocket") return new Response("no", { status: 400 });
      upstreamSeen.push(`auth=${req.headers.get("authorization")} host=${req.headers.get("host")}`);
      const { socket, response } = Deno.upgradeWebSocket(req, { protocol: "responses-v1" });
      socket.onmessage = (event) => {
        if (typeof event.data === "string") {
          upstreamSeen.push(event.data);
          socket.send(JSON.stringify({ type: "response.created", echo: JSON.parse(event.data).type }));
        } else {
          socket.send(new Uint8Array([9, 8, 7]));
          socket.close(4001, "done here");
        }
      };
      return response;
    });
    const sink = new MemorySink();
    await using gw = await startTestGateway({ sink, overrides: { "api.openai.com": upstream.origin } });
    const options = {
      protocols: ["responses-v1"],
      headers: { authorization: "Bearer sk-test" },
      client: gw.client,
    };
    const ws = new WebSocket("wss://api.openai.com/v1/responses", options as unknown as string[]);
    ws.binaryType = "arraybuffer";
    const received: (string | number[])[] = [];
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    ws.onmessage = (event) => {
      received.push(typeof event.data === "string" ? event.data : [...new Uint8Array(event.data)]);
      if (received.length === 1) ws.send(new Uint8Array([1, 2, 3]));
    };
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    assert.equal(ws.protocol, "responses-v1");
    ws.send(JSON.stringify({ type: "response.create", model: "gpt-5" }));
    const close = await closed;
    assert.deepEqual([close.code, close.reason], [4001, "done here"]);
    assert.deepEqual(received, [JSON.stringify({ type: "response.created", echo: "response.create" }), [
      9,
      8,
      7,
    ]]);
    assert.equal(upstreamSeen[0], "auth=Bearer sk-test host=api.openai.com");
    const [captured] = await sink.waitFor(1);
    assert.equal(captured.exchange.kind, "websocket");
    assert.equal(captured.exchange.api, "openai.responses_ws");
    assert.deepEqual(captured.ws.map((m) => m.from), ["client", "server", "client", "server"]);
  },
});

Deno.test({
  name: "a WebSocket the upstream refuses becomes an HTTP error the client can fall back from",
  ...SANITIZE,
  async fn() {
    await using upstream = startUpstream(() => new Response("websockets disabled", { status: 426 }));
    await using gw = await startTestGateway({ overrides: { "api.openai.com": upstream.origin } });
    const ws = new WebSocket(
      "wss://api.openai.com/v1/responses",
      { client: gw.client } as unknown as string[],
    );
    const outcome = await new Promise<string>((resolve) => {
      ws.onopen = () => resolve("open");
      ws.onerror = () => resolve("error");
    });
    assert.equal(outcome, "error");
  },
});
