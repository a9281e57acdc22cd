import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { signBody, verifySignature } from "./signing.ts";

Deno.test("a signature is HMAC-SHA256 of timestamp, dot and the exact body, as sha256=<hex>", () => {
  const body = '{"kind":"budget.threshold","text":"hi"}';
  const hex = createHmac("sha256", "s3cret").update(`1700000000.${body}`).digest("hex");
  assert.equal(signBody("s3cret", "1700000000", body), `sha256=${hex}`);
});

Deno.test("verification refuses another secret, another timestamp and a changed body", () => {
  const body = '{"a":1}';
  const signature = signBody("s3cret", "1700000000", body);
  assert.ok(verifySignature("s3cret", { timestamp: "1700000000", body, signature }));
  assert.ok(!verifySignature("other", { timestamp: "1700000000", body, signature }));
  assert.ok(!verifySignature("s3cret", { timestamp: "1700000001", body, signature }));
  assert.ok(!verifySignature("s3cret", { timestamp: "1700000000", body: '{"a":2}', signature }));
  assert.ok(!verifySignature("s3cret", { timestamp: "1700000000", body, signature: "sha256=00" }));
});
