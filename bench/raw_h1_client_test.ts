import { deepStrictEqual as assertEquals } from "node:assert/strict";
import tls from "node:tls";
import type { AddressInfo } from "node:net";
import { makeTestCertificate } from "../tests/fake_provider/tls.ts";
import { rawH1Client } from "./raw_h1_client.ts";

for (const engine of ["deno", "node"] as const) {
  Deno.test(`raw_h1_client (${engine}): content-length and chunked answers on one kept-alive connection`, () =>
    roundTrips(engine));
}

async function roundTrips(engine: "deno" | "node"): Promise<void> {
  const material = makeTestCertificate(["127.0.0.1"]);
  const peers = new Set<string>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: material.cert, key: material.key, onListen() {} },
    async (req, info) => {
      peers.add(`${info.remoteAddr.port}`);
      const sent = await req.text();
      if (new URL(req.url).pathname === "/whole") return new Response(`whole:${sent}`);
      const parts = ["data: one\n\n", "data: two\n\n", "x".repeat(40_000)];
      return new Response(
        new ReadableStream({
          async pull(controller) {
            const next = parts.shift();
            if (next === undefined) return controller.close();
            await new Promise((r) => setTimeout(r, 5));
            controller.enqueue(new TextEncoder().encode(next));
          },
        }),
      );
    },
  );
  try {
    const send = rawH1Client(`https://127.0.0.1:${server.addr.port}`, [material.caCert], engine);
    const body = new TextEncoder().encode("ping");
    const whole = await send("POST", "/whole", new Headers({ "content-type": "text/plain" }), body);
    assertEquals([whole.status, await whole.text()], [200, "whole:ping"]);
    const streamed = await send("GET", "/stream", new Headers(), null);
    assertEquals(await streamed.text(), "data: one\n\ndata: two\n\n" + "x".repeat(40_000));
    const again = await send("POST", "/whole", new Headers(), body);
    assertEquals(await again.text(), "whole:ping");
    assertEquals(peers.size, 1, "all three requests on one connection");
  } finally {
    await server.shutdown();
  }
}

Deno.test("raw_h1_client: a kept-alive connection the upstream closed while idle is replaced, not an error", async () => {
  const material = makeTestCertificate(["127.0.0.1"]);
  const peers = new Set<number>();
  // Answers one request per connection and closes it 50 ms later without saying so, as an upstream's idle
  // timeout does (Node's is 5 s).
  const server = tls.createServer({ cert: material.cert, key: material.key }, (socket) => {
    peers.add(socket.remotePort ?? 0);
    socket.once("data", () => {
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      setTimeout(() => socket.destroy(), 50); // closed, so server.close() below has nothing to wait for
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    for (const engine of ["deno", "node"] as const) {
      peers.clear();
      const send = rawH1Client(`https://127.0.0.1:${port}`, [material.caCert], engine);
      assertEquals(await (await send("GET", "/", new Headers(), null)).text(), "ok");
      await new Promise((r) => setTimeout(r, 300));
      assertEquals(await (await send("GET", "/", new Headers(), null)).text(), "ok", engine);
      assertEquals(peers.size, 2, `${engine}: the second request on a new connection`);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
