/**
 * Drain on an in-process gateway over loopback with real TLS: what happens to idle and busy HTTP/1.1
 * connections, h2 connections, WebSocket sessions and blind tunnels between `drain()` and its end. The
 * same for a real `recondo serve` process, signals included, is in `tests/drain_serve_test.ts`.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import { Buffer } from "node:buffer";
import { startTestGateway, startUpstream } from "./support/gateway.ts";
import { collect, connectTunnel, proxiedTls, received } from "./support/proxied_tls.ts";
import { DATA, endsStream, GOAWAY, goAwayOf, rawH2 } from "./support/raw_h2.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const HOST = "api.anthropic.com";
const GET = `GET /v1/models HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`;
const STREAM = `GET /stream HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`;

/** An upstream whose `/stream` sends "part-1" and then "part-2" only when the test calls `finish()`. */
function gatedUpstream() {
  const finish = Promise.withResolvers<void>();
  const head = Promise.withResolvers<void>();
  const upstream = startUpstream(async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/late-head") {
      await head.promise;
      return new Response("late answer\n");
    }
    if (path !== "/stream") return Response.json({ data: [] });
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode("part-1\n"));
        await finish.promise;
        controller.enqueue(new TextEncoder().encode("part-2\n"));
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  });
  return { upstream, finish: () => finish.resolve(), sendHead: () => head.resolve() };
}

async function setup() {
  const gated = gatedUpstream();
  const gateway = await startTestGateway({ overrides: { [HOST]: gated.upstream.origin } });
  const cleanup = async () => {
    gated.finish();
    gated.sendHead();
    await gateway.close();
    await gated.upstream.close();
  };
  return { gated, gateway, cleanup };
}

Deno.test({
  name: "drain closes an idle keep-alive connection after lingering and a busy one after its stream ends",
  ...SANITIZE,
  async fn() {
    const { gated, gateway, cleanup } = await setup();
    try {
      const idle = await proxiedTls(gateway.port, HOST, { ca: gateway.caPem, alpn: "http/1.1" });
      const idleSeen = collect(idle);
      idle.write(GET);
      await received(idle, idleSeen, (text) => text.includes('{"data":[]}'));
      const busy = await proxiedTls(gateway.port, HOST, { ca: gateway.caPem, alpn: "http/1.1" });
      const busySeen = collect(busy);
      busy.write(STREAM);
      await received(busy, busySeen, (text) => text.includes("part-1"));
      assert.equal(gateway.inFlight(), 1);

      const drained = gateway.drain({ graceMs: 30_000 });
      assert.equal(gateway.draining(), true);
      await within(idleSeen.closed, 5_000, "the idle connection was not closed after lingering");
      assert.equal(busy.destroyed, false, "the busy connection was cut at drain start");
      assert.equal(await settledYet(drained), false, "drain ended while a stream was in flight");
      gated.finish();
      const all = await busySeen.closed;
      assert.match(all, /part-1\n[\s\S]*part-2\n[\s\S]*0\r\n\r\n$/, "the stream did not end complete");
      assert.deepEqual(await drained, { completed: true, abandoned: 0 });
      assert.equal(gateway.inFlight(), 0);
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "a response whose head is sent while draining says connection: close, and the connection then closes",
  ...SANITIZE,
  async fn() {
    const { gated, gateway, cleanup } = await setup();
    try {
      const socket = await proxiedTls(gateway.port, HOST, { ca: gateway.caPem, alpn: "http/1.1" });
      const seen = collect(socket);
      socket.write(`GET /late-head HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`);
      const metrics = await pollMetrics(gateway, /recondo_inflight_exchanges 1/);
      assert.match(metrics, /recondo_draining 0/);
      const drained = gateway.drain({ graceMs: 30_000 });
      assert.match(await gateway.metrics.registry.metrics(), /recondo_draining 1/);
      gated.sendHead();
      const all = await seen.closed;
      assert.match(all, /^HTTP\/1\.1 200[^]*\r\nconnection: close\r\n[^]*late answer\n$/i);
      assert.deepEqual(await drained, { completed: true, abandoned: 0 });
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "once draining the proxy port refuses new connections and /readyz says draining",
  ...SANITIZE,
  async fn() {
    const { gateway, cleanup } = await setup();
    try {
      const ready = await gateway.health(new Request("http://x/readyz"))!;
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: "ready" });
      const drained = gateway.drain({ graceMs: 30_000 });
      const notReady = await gateway.health(new Request("http://x/readyz"))!;
      assert.equal(notReady.status, 503);
      assert.deepEqual(await notReady.json(), { status: "not ready", reasons: ["draining"] });
      const live = await gateway.health(new Request("http://x/healthz"))!;
      assert.equal(live.status, 200);
      await assert.rejects(connectTunnel(gateway.port, HOST), /ECONNREFUSED|refused/i);
      assert.deepEqual(await drained, { completed: true, abandoned: 0 });
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name:
    "an h2 connection gets GOAWAY at drain start, keeps its in-flight stream to the end and is then closed",
  ...SANITIZE,
  async fn() {
    const { gated, gateway, cleanup } = await setup();
    try {
      const tlsH2 = await proxiedTls(gateway.port, HOST, { ca: gateway.caPem, alpn: "h2" });
      const session = http2.connect(`https://${HOST}`, { createConnection: () => tlsH2 });
      let body = "";
      const goaways: { code: number; lastStreamId: number; bodyThen: string }[] = [];
      const goaway = Promise.withResolvers<void>();
      session.on("goaway", (code: number, lastStreamId: number) => {
        goaways.push({ code, lastStreamId, bodyThen: body });
        goaway.resolve();
      });
      session.on("error", () => {});
      const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
      const stream = session.request({ ":path": "/stream", ":authority": HOST });
      stream.setEncoding("utf8");
      const firstPart = Promise.withResolvers<void>();
      stream.on("data", (chunk: string) => {
        body += chunk;
        if (body.includes("part-1")) firstPart.resolve();
      });
      const ended = new Promise<void>((resolve) => stream.once("end", () => resolve()));
      await firstPart.promise;
      const drained = gateway.drain({ graceMs: 30_000 });
      await within(goaway.promise, 5_000, "no GOAWAY reached the client at drain start");
      assert.deepEqual(goaways, [{ code: 0, lastStreamId: 2 ** 31 - 1, bodyThen: "part-1\n" }]);
      gated.finish();
      await ended;
      assert.equal(body, "part-1\npart-2\n", "the stream did not end complete after the GOAWAY");
      await within(closed, 5_000, "the h2 connection stayed open after its stream");
      assert.deepEqual(await drained, { completed: true, abandoned: 0 });
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "an h2 connection's final GOAWAY names its last stream, and a stream opened after it is not served",
  ...SANITIZE,
  async fn() {
    const { gated, gateway, cleanup } = await setup();
    try {
      const h2 = rawH2(await proxiedTls(gateway.port, HOST, { ca: gateway.caPem, alpn: "h2" }));
      h2.get(1, HOST, "/stream");
      await h2.next((f) => f.type === DATA && f.streamId === 1 && f.payload.includes("part-1"));
      const drained = gateway.drain({ graceMs: 30_000 });
      const first = await h2.next((f) => f.type === GOAWAY);
      assert.deepEqual(goAwayOf(first), { lastStreamId: 2 ** 31 - 1, errorCode: 0 });
      gated.finish();
      const end = await h2.next((f) => f.streamId === 1 && endsStream(f));
      const data = h2.frames.filter((f) => f.type === DATA && f.streamId === 1);
      assert.equal(Buffer.concat(data.map((f) => f.payload)).toString(), "part-1\npart-2\n");
      assert.ok(h2.frames.indexOf(first) < h2.frames.indexOf(end), "the stream ended before the GOAWAY");
      const final = await h2.next((f) => f.type === GOAWAY && f !== first);
      assert.deepEqual(goAwayOf(final), { lastStreamId: 1, errorCode: 0 });
      h2.get(3, HOST, "/v1/models");
      await within(h2.closed, 5_000, "the h2 connection stayed open after its final GOAWAY");
      assert.deepEqual(
        h2.frames.filter((f) => f.streamId === 3),
        [],
        "a stream after the final GOAWAY was served",
      );
      assert.deepEqual(await drained, { completed: true, abandoned: 0 });
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "a WebSocket session keeps relaying while draining and drain ends when it closes",
  ...SANITIZE,
  async fn() {
    const upstream = startUpstream((req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (event) => socket.send(`echo:${event.data}`);
      return response;
    });
    const gateway = await startTestGateway({ overrides: { "api.openai.com": upstream.origin } });
    try {
      const ws = new WebSocket("wss://api.openai.com/v1/responses", {
        client: gateway.client,
      } as unknown as string[]);
      const messages: string[] = [];
      let next = Promise.withResolvers<void>();
      ws.onmessage = (event) => {
        messages.push(String(event.data));
        next.resolve();
      };
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      ws.send("before");
      await next.promise;
      assert.equal(gateway.inFlight(), 1);
      const drained = gateway.drain({ graceMs: 30_000 });
      next = Promise.withResolvers<void>();
      ws.send("during");
      await next.promise;
      assert.deepEqual(messages, ["echo:before", "echo:during"]);
      assert.equal(await settledYet(drained), false, "drain ended while the WebSocket was open");
      const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
      ws.close(1000, "done");
      assert.equal((await closed).code, 1000);
      assert.deepEqual(await drained, { completed: true, abandoned: 0 });
    } finally {
      await gateway.close();
      await upstream.close();
    }
  },
});

Deno.test({
  name: "a blind tunnel counts as in flight and drain waits for it within the grace",
  ...SANITIZE,
  async fn() {
    const echo = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    const echoPort = (echo.address() as net.AddressInfo).port;
    const { gateway, cleanup } = await setup();
    try {
      const tunnel = await connectTunnel(gateway.port, `127.0.0.1:${echoPort}`);
      const seen = collect(tunnel);
      tunnel.write("ping");
      await received(tunnel, seen, (text) => text === "ping");
      assert.equal(gateway.inFlight(), 1);
      const drained = gateway.drain({ graceMs: 30_000 });
      tunnel.write("-pong");
      await received(tunnel, seen, (text) => text === "ping-pong");
      assert.equal(await settledYet(drained), false, "drain ended while the tunnel was open");
      tunnel.end();
      assert.deepEqual(await drained, { completed: true, abandoned: 0 });
    } finally {
      await cleanup();
      echo.close();
    }
  },
});

Deno.test({
  name: "drain gives up after the grace and reports the stream it abandoned",
  ...SANITIZE,
  async fn() {
    const { gateway, cleanup } = await setup();
    try {
      const busy = await proxiedTls(gateway.port, HOST, { ca: gateway.caPem, alpn: "http/1.1" });
      const seen = collect(busy);
      busy.write(STREAM);
      await received(busy, seen, (text) => text.includes("part-1"));
      const started = Date.now();
      assert.deepEqual(await gateway.drain({ graceMs: 300 }), { completed: false, abandoned: 1 });
      assert.ok(Date.now() - started >= 290, "drain returned before its grace");
      assert.equal(busy.destroyed, false, "drain itself cut the stream; only close() may");
    } finally {
      await cleanup();
    }
  },
});

async function pollMetrics(gateway: { metrics: { registry: { metrics(): Promise<string> } } }, want: RegExp) {
  // The gauge is read at scrape time; the request reaches the inner server asynchronously.
  for (let i = 0; i < 200; i++) {
    const text = await gateway.metrics.registry.metrics();
    if (want.test(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`metrics never matched ${want}`);
}

/** Whether `promise` has settled, after letting pending callbacks run (one macrotask turn). */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return settled;
}

/** `promise`, or a rejection naming `what` after `ms` (so a missing close fails instead of hanging). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error(what)), ms));
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
