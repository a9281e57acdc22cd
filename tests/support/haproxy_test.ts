/**
 * The balancer the fleet tests stand on: a backend whose readiness check fails leaves rotation within
 * about a second while a stream already on it runs to the end (what a draining gateway needs), and new
 * connections go to the others.
 */
import assert from "node:assert/strict";
import { haproxyConfig, requireHaproxy, startHaproxy } from "./haproxy.ts";

/** A plain HTTP backend: `/readyz` follows `ready`, `/who` names it, `/slow` streams for `ms`. */
function backend(name: string) {
  const state = { ready: true };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/readyz") return new Response(null, { status: state.ready ? 200 : 503 });
    if (url.pathname === "/slow") {
      const ticks = Number(url.searchParams.get("ticks") ?? "10");
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((r) => setTimeout(r, 100));
          controller.enqueue(new TextEncoder().encode(`${name}-${sent}\n`));
          if (++sent === ticks) controller.close();
        },
      });
      return new Response(body);
    }
    return new Response(name);
  });
  return { name, port: server.addr.port, state, close: () => server.shutdown() };
}

/** One request on its own connection through the balancer. */
async function who(url: string): Promise<string> {
  const client = Deno.createHttpClient({});
  try {
    return await (await fetch(`${url}/who`, { client })).text();
  } finally {
    client.close();
  }
}

Deno.test("the haproxy config checks the readiness path and keeps long streams", () => {
  const text = haproxyConfig({ backends: [{ name: "gw0", port: 1 }], port: 2, dir: "/tmp/x" });
  assert.match(text, /http-check send meth GET uri \/readyz/);
  assert.match(text, /timeout tunnel 1h/);
  assert.match(text, /server gw0 127\.0\.0\.1:1 check/);
});

Deno.test({
  name: "a backend that stops being ready leaves rotation within a second and finishes its stream",
  async fn() {
    requireHaproxy();
    const a = backend("a");
    const b = backend("b");
    const lb = await startHaproxy({ backends: [a, b], checkPath: "/readyz", checkIntervalMs: 200 });
    try {
      const seen = new Set(await Promise.all([who(lb.url), who(lb.url), who(lb.url), who(lb.url)]));
      assert.deepEqual([...seen].sort(), ["a", "b"], "round robin reaches both");

      // A stream on each backend, then `a` turns unready mid-stream.
      // Two connections: round robin puts one stream on each backend.
      const clients = [Deno.createHttpClient({}), Deno.createHttpClient({})];
      const streams = await Promise.all(
        clients.map((client) => fetch(`${lb.url}/slow?ticks=15`, { client })),
      );
      a.state.ready = false;
      const started = performance.now();
      await lb.waitForState({ a: "DOWN", b: "UP" }, 2_000);
      const outMs = performance.now() - started;
      assert.ok(outMs < 1_000, `a left rotation after ${Math.round(outMs)} ms`);
      const afterDown = await Promise.all(Array.from({ length: 4 }, () => who(lb.url)));
      assert.deepEqual(afterDown, ["b", "b", "b", "b"], "new connections avoid the unready backend");
      const bodies = await Promise.all(streams.map((s) => s.text()));
      for (const body of bodies) assert.equal(body.trim().split("\n").length, 15, "streams run to the end");
      assert.ok(bodies.some((body) => body.startsWith("a-")), "one stream was on the draining backend");
      for (const client of clients) client.close();
    } finally {
      await lb.close();
      await a.close();
      await b.close();
    }
  },
});
