import { deepStrictEqual as assertEquals } from "node:assert/strict";
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
