import assert from "node:assert/strict";
import {
  clientResponseHead,
  clientResponseHeaders,
  headerRecord,
  upstreamRequestHeaders,
} from "./headers.ts";

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

Deno.test("the one-pass response head matches clientResponseHeaders and keeps every set-cookie", () => {
  for (const encoding of ["gzip", "br", "identity"]) {
    const upstream = new Headers([
      ["content-encoding", encoding],
      ["content-length", "10"],
      ["connection", "keep-alive"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
      ["x-request-id", "r1"],
    ]);
    const head = clientResponseHead(upstream);
    const headers = clientResponseHeaders(upstream);
    assert.deepEqual([...new Headers(head.pairs)], [...headers]);
    assert.deepEqual(head.record, headerRecord(headers));
    assert.deepEqual(new Headers(head.pairs).getSetCookie(), ["a=1", "b=2"]);
  }
});

Deno.test("request headers from a plain record go upstream exactly as from Headers", () => {
  const incoming = new Headers({
    connection: "x-private",
    "x-private": "1",
    "proxy-authorization": "Basic abc",
    host: "127.0.0.1:8443",
    "x-api-key": "k",
    "anthropic-beta": "a, b",
  });
  const fromRecord = upstreamRequestHeaders(headerRecord(incoming), "api.anthropic.com");
  assert.deepEqual([...fromRecord], [...upstreamRequestHeaders(incoming, "api.anthropic.com")]);
});
