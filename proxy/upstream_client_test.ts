import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createUpstreamClient } from "./upstream_client.ts";

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
