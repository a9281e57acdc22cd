/**
 * Regression tests for what the fuzzer (tests/fuzz/) found: input Recondo cannot parse gets a 400 or a
 * close, never a 5xx of its own, and a refused client leaves no connection behind.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { rawExchange, startTestGateway, startUpstream, type TestGateway } from "./support/gateway.ts";
import {
  collect,
  exchange,
  frame,
  h1Complete,
  h1Statuses,
  h2Frames,
  h2Status,
  literal,
  PREFACE,
  tunnel,
} from "./fuzz/wire.ts";
import { Rng } from "./fuzz/rng.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

/** A gateway that refuses other hosts, with api.openai.com pointed at a loopback upstream; disposes both. */
async function gatewayWithUpstream(): Promise<TestGateway> {
  const upstream = startUpstream(() => new Response("upstream-ok"));
  const gw = await startTestGateway({
    config: { otherHosts: "refuse", limits: { headerTimeoutMs: 300 } },
    overrides: { "api.openai.com": upstream.origin },
  });
  const closeGateway = gw[Symbol.asyncDispose].bind(gw);
  gw[Symbol.asyncDispose] = async () => {
    await closeGateway();
    await upstream[Symbol.asyncDispose]();
  };
  return gw;
}

Deno.test({
  name: "an absolute URL or Host header the URL parser rejects gets 400, not 500, wherever the request comes",
  ...SANITIZE,
  async fn() {
    await using gw = await gatewayWithUpstream();
    const status = async (raw: string) => h1Statuses(Buffer.from(await rawExchange(gw.port, raw, 2000)));
    // The front door's own check.
    assert.deepEqual(await status("GET http://[::1 HTTP/1.1\r\n\r\n"), [400]);
    assert.deepEqual(await status("GET http://x:99999/ HTTP/1.1\r\n\r\n"), [400]);
    // Behind a valid first request the inner server parses the head alone; and a bad Host header.
    const pipelined = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET http://[::1 HTTP/1.1\r\n\r\n";
    assert.deepEqual(await status(pipelined), [200, 400]);
    assert.deepEqual(await status("GET /healthz HTTP/1.1\r\nHost: [::1\r\n\r\n"), [400]);
    assert.deepEqual(await status("GET /metrics HTTP/1.1\r\nHost: a b\r\n\r\n"), [400]);

    // Inside an intercepted tunnel: h1 with a bad Host, h2 with an :authority whose port is out of range
    // (h2's own parser resets the stream of an :authority like `[::1`; this one reaches our handler).
    const rng = new Rng(1);
    const h1 = await tunnel(gw.port, {
      host: "api.openai.com",
      ca: gw.caPem,
      alpn: ["http/1.1"],
      deadlineMs: 2000,
    });
    assert.ok(h1);
    const got = await exchange(h1, Buffer.from("GET /v1/models HTTP/1.1\r\nHost: [::1\r\n\r\n"), rng, {
      deadlineMs: 2000,
      complete: h1Complete,
    });
    h1.destroy();
    assert.deepEqual(h1Statuses(got.bytes), [400]);

    const h2 = await tunnel(gw.port, {
      host: "api.openai.com",
      ca: gw.caPem,
      alpn: ["h2"],
      deadlineMs: 2000,
    });
    assert.ok(h2);
    const block = Buffer.concat([
      literal(":method", "GET"),
      literal(":scheme", "https"),
      literal(":authority", "api.openai.com:99999"),
      literal(":path", "/v1/models"),
    ]);
    const answer = collect(h2, { deadlineMs: 2000, complete: (b) => h2Frames(b).some((f) => f.type === 1) });
    h2.write(Buffer.concat([PREFACE, frame(0x4, 0, 0), frame(0x1, 0x5, 1, block)]));
    const frames = h2Frames((await answer).bytes).filter((f) => f.type === 1 && f.streamId === 1);
    h2.destroy();
    assert.deepEqual(frames.map((f) => h2Status(f.payload)), [400]);
  },
});

Deno.test({
  name: "clients refused with 400 or 408 are closed once they close, not kept open for good",
  ...SANITIZE,
  async fn() {
    await using gw = await gatewayWithUpstream();
    const open = async () => {
      const text = await rawExchange(
        gw.port,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      return Number(/^recondo_open_connections (\d+)$/m.exec(text)?.[1]);
    };
    const before = await open();
    assert.match(await rawExchange(gw.port, "GET / HTTP/1.1\r\n", 2000), /^HTTP\/1\.1 408 /);
    assert.match(await rawExchange(gw.port, "GE T / HTTP/1.1\r\n\r\n", 2000), /^HTTP\/1\.1 400 /);
    assert.match(
      await rawExchange(gw.port, "CONNECT example.com:443 HTTP/1.1\r\n\r\n", 2000),
      /^HTTP\/1\.1 403 /,
    );
    let after = await open();
    for (let i = 0; i < 20 && after !== before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await open();
    }
    assert.equal(after, before, "every refused connection was closed");
  },
});

Deno.test({
  name: "an upgrade: websocket request that is no WebSocket handshake gets 400, and no upstream socket opens",
  ...SANITIZE,
  async fn() {
    let upstreamSockets = 0;
    await using upstream = startUpstream((req) => {
      if (req.headers.get("upgrade") !== "websocket") return new Response("upstream-ok");
      upstreamSockets++;
      const { response, socket } = Deno.upgradeWebSocket(req);
      socket.onopen = () => socket.close();
      return response;
    });
    const config = { otherHosts: "refuse", limits: { headerTimeoutMs: 300 } };
    await using gw = await startTestGateway({ config, overrides: { "api.openai.com": upstream.origin } });
    const rng = new Rng(2);
    for (
      const head of [
        // Found by the fuzzer (tls target): 502 when the upstream refused, 500 when it accepted.
        "TRACE /v1/responses HTTP/1.0\r\nHost: api.openai.com\r\nUpgrade: websocket\r\n\r\n",
        "GET /v1/responses HTTP/1.1\r\nHost: api.openai.com\r\nUpgrade: websocket\r\n\r\n",
        "GET /v1/responses HTTP/1.1\r\nHost: api.openai.com\r\nUpgrade: websocket\r\nConnection: upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      ]
    ) {
      const secure = await tunnel(gw.port, {
        host: "api.openai.com",
        ca: gw.caPem,
        alpn: ["http/1.1"],
        deadlineMs: 2000,
      });
      assert.ok(secure);
      const got = await exchange(secure, Buffer.from(head), rng, { deadlineMs: 2000, complete: h1Complete });
      secure.destroy();
      assert.deepEqual(h1Statuses(got.bytes), [400], head);
    }
    assert.equal(upstreamSockets, 0);
  },
});

Deno.test({
  name: "TRACE and TRACK requests get 405, not a 502 from the upstream client refusing them",
  ...SANITIZE,
  async fn() {
    await using gw = await gatewayWithUpstream();
    const rng = new Rng(3);
    // Found by the fuzzer (tls target, seed 20261206): "Method is forbidden" from fetch became a 502.
    for (const method of ["TRACE", "TRACK", "trace"]) {
      const head = `${method} /v1/models HTTP/1.1\r\nHost: api.openai.com\r\n\r\n`;
      assert.deepEqual(await statusesInTunnel(gw, head, rng), [405], method);
    }
    assert.deepEqual(
      h1Statuses(
        Buffer.from(await rawExchange(gw.port, "TRACE http://api.openai.com/ HTTP/1.1\r\n\r\n", 1500)),
      ),
      [405],
    );
  },
});

Deno.test({
  name: "a GET or HEAD with a body, in any letter case, gets 400, not a 502 from the upstream client",
  ...SANITIZE,
  async fn() {
    await using gw = await gatewayWithUpstream();
    const rng = new Rng(5);
    // Found by the fuzzer (tls target, seed 7, iteration 1305): fetch refuses a GET body, which became a 502.
    for (const method of ["get", "GET", "head"]) {
      const head = `${method} /v1/models HTTP/1.1\r\nHost: api.openai.com\r\nContent-Length: 5\r\n\r\nhello`;
      assert.deepEqual(await statusesInTunnel(gw, head, rng), [400], method);
    }
  },
});

Deno.test({
  name: "a Host header that is no host name gets 400, not a rewritten path",
  ...SANITIZE,
  async fn() {
    await using gw = await gatewayWithUpstream();
    const rng = new Rng(9);
    // Found by the fuzzer: `Host: a/b?c` became part of the path the gateway saw and forwarded.
    for (const host of ["a/b?c", "api.openai.com/v1#x", "user@api.openai.com"]) {
      const head = `GET /v1/models HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
      assert.deepEqual(await statusesInTunnel(gw, head, rng), [400], host);
    }
    const fine = "GET /v1/models HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n";
    assert.deepEqual(await statusesInTunnel(gw, fine, rng), [200], "a host with a port is fine");
  },
});

/** The statuses the gateway answers `head` with inside an intercepted HTTP/1.1 tunnel to api.openai.com. */
async function statusesInTunnel(
  gw: { port: number; caPem: string },
  head: string,
  rng: Rng,
): Promise<number[]> {
  const secure = await tunnel(gw.port, {
    host: "api.openai.com",
    ca: gw.caPem,
    alpn: ["http/1.1"],
    deadlineMs: 2000,
  });
  assert.ok(secure);
  try {
    const got = await exchange(secure, Buffer.from(head), rng, { deadlineMs: 2000, complete: h1Complete });
    return h1Statuses(got.bytes);
  } finally {
    secure.destroy();
  }
}
