import assert from "node:assert/strict";
import { headerDelta, mergeHeaders } from "./header_sets.ts";

Deno.test("headers stored as a delta over their set merge back to the same values in the same order", () => {
  const base = { accept: "*/*", "x-request-id": "a", "user-agent": "claude-cli/2" };
  const headers = { accept: "*/*", "x-request-id": "b", "user-agent": "claude-cli/2" };
  const delta = headerDelta(headers, base);
  assert.deepEqual(delta, { "x-request-id": "b" });
  const merged = mergeHeaders(JSON.stringify(delta), JSON.stringify(base));
  assert.equal(JSON.stringify(merged), JSON.stringify(headers), "values and order as captured");
  assert.deepEqual(mergeHeaders('{"a":"1"}', null), { a: "1" }, "a row without a set holds every header");
});

Deno.test("headers with other names or order have no delta, and a delta naming an unknown header is refused", () => {
  assert.equal(headerDelta({ b: "1", a: "2" }, { a: "2", b: "1" }), null);
  assert.equal(headerDelta({ a: "1", c: "2" }, { a: "1" }), null);
  assert.throws(() => mergeHeaders('{"c":"1"}', '{"a":"1"}'), /"c", which their base set lacks/);
});
