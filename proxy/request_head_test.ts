import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { parseAuthority, parseHead } from "./request_head.ts";

Deno.test("a CONNECT head parses with lower-case, joined headers", () => {
  const head = parseHead(
    Buffer.from("CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nX-A: 1\r\nx-a: 2"),
  );
  assert.deepEqual(head, {
    method: "CONNECT",
    target: "api.openai.com:443",
    version: "HTTP/1.1",
    headers: { host: "api.openai.com:443", "x-a": "1, 2" },
  });
});

Deno.test("malformed heads are refused", () => {
  for (
    const raw of [
      "CONNECT",
      "CONNECT x HTTP/2",
      "GE T / HTTP/1.1",
      "GET / HTTP/1.1\r\nno colon here",
      "GET / HTTP/1.1\r\nbad name: x",
    ]
  ) {
    assert.equal(parseHead(Buffer.from(raw)), null, raw);
  }
});

Deno.test("authorities parse names, IPv6 and ports, and reject the rest", () => {
  assert.deepEqual(parseAuthority("API.Anthropic.com:8443", 443), { host: "api.anthropic.com", port: 8443 });
  assert.deepEqual(parseAuthority("api.openai.com", 443), { host: "api.openai.com", port: 443 });
  assert.deepEqual(parseAuthority("[::1]:8080", 443), { host: "::1", port: 8080 });
  for (const bad of ["", "host:0", "host:65536", "a b:443", "host:port", "user@host:443"]) {
    assert.equal(parseAuthority(bad, 443), null, bad);
  }
});

Deno.test("absolute-form targets the URL parser rejects are malformed heads", () => {
  for (
    const target of ["http://[::1", "http://x:99999/", "http://%zz/", "HTTP://[fe80::1%25eth0]/", "http://"]
  ) {
    assert.equal(parseHead(Buffer.from(`GET ${target} HTTP/1.1\r\nHost: x`)), null, target);
  }
  assert.equal(parseHead(Buffer.from("GET http://[::1]:8080/a HTTP/1.1"))?.target, "http://[::1]:8080/a");
});
