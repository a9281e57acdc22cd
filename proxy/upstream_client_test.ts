import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createUpstreamClient } from "./upstream_client.ts";

Deno.test("an upload aborted mid-stream on the node engine rejects once and raises no uncaught error", async () => {
  // Found by the fuzzer (h2 target): a client gone mid-upload aborts the upstream request; node's
  // ClientRequest then emitted a second "error" (from its socket) after the one-shot listener was used,
  // which Deno raises as an uncaught error: the gateway process died.
  const uncaught: unknown[] = [];
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    uncaught.push(event.error);
  };
  globalThis.addEventListener("error", onError);
  const { promise: never, resolve: release } = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (req.method === "GET") return new Response("ok");
    await never;
    return new Response("late");
  });
  const client = await createUpstreamClient({ extraCaFiles: [] });
  try {
    for (let i = 0; i < 6; i++) {
      // A keep-alive socket in the pool, as on a busy gateway, for the upload to reuse.
      const warm = await client.fetch(`http://127.0.0.1:${server.addr.port}/`, {
        method: "GET",
        headers: {},
        body: new ReadableStream({ start: (c) => c.close() }),
        signal: new AbortController().signal,
      });
      await warm.text();
      const abort = new AbortController();
      let stream!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          stream = controller;
          controller.enqueue(new Uint8Array(1024));
        },
      });
      const sent = client.fetch(`http://127.0.0.1:${server.addr.port}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: abort.signal,
      });
      // As when the client's connection drops: its body fails and the exchange aborts, in either order.
      setTimeout(() => {
        if (i % 2) stream.error(new Error("Cannot read request body"));
        abort.abort(new Error("client went away"));
        if (!(i % 2)) stream.error(new Error("Cannot read request body"));
      }, 30);
      await assert.rejects(sent);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(uncaught, []);
  } finally {
    globalThis.removeEventListener("error", onError);
    client.close();
    release();
    await server.shutdown();
  }
});

Deno.test("after a burst the upstream pool keeps at most maxIdlePerHost idle connections", async () => {
  const server = http.createServer((_req, res) => setTimeout(() => res.end("ok"), 100));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const client = await createUpstreamClient({ extraCaFiles: [], maxIdlePerHost: 2 });
  try {
    const burst = Array.from({ length: 10 }, async () => {
      const response = await client.fetch(`http://127.0.0.1:${port}/`, {
        method: "GET",
        headers: {},
        body: null,
        signal: new AbortController().signal,
      });
      assert.equal(await response.text(), "ok");
    });
    await Promise.all(burst);
    // The pool closes the connections it does not keep as each response ends; give the FINs a moment.
    let open = Infinity;
    for (let i = 0; i < 40 && open > 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      open = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
    }
    assert.ok(open <= 2, `${open} upstream connections still open, at most 2 may be kept idle`);
  } finally {
    client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
