import assert from "node:assert/strict";
import { clientResponseHeaders, upstreamRequestHeaders } from "./headers.ts";

Deno.test("hop-by-hop and Connection-listed headers never go upstream; Host is the real host", () => {
  const out = upstreamRequestHeaders(
    new Headers({
      connection: "keep-alive, x-private",
      "x-private": "1",
      "proxy-authorization": "Basic abc",
      te: "trailers",
      host: "127.0.0.1:8443",
      "x-api-key": "k",
      "accept-encoding": "gzip, deflate, br, zstd",
    }),
    "api.anthropic.com",
  );
  assert.deepEqual([...out.entries()].sort(), [
    ["accept-encoding", "gzip, br"],
    ["host", "api.anthropic.com"],
    ["x-api-key", "k"],
  ]);
});

Deno.test("a body fetch decoded loses its encoding and length; others keep them", () => {
  const decoded = clientResponseHeaders(
    new Headers({
      "content-encoding": "gzip",
      "content-length": "10",
      "content-type": "text/plain",
      "transfer-encoding": "chunked",
    }),
  );
  assert.deepEqual([...decoded.entries()], [["content-type", "text/plain"]]);
  const plain = clientResponseHeaders(new Headers({ "content-length": "10" }));
  assert.equal(plain.get("content-length"), "10");
});
