import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { hmacHasher, placeholder, processHasher } from "./placeholder.ts";

Deno.test("hmacHasher is HMAC-SHA256 for short, string and longer-than-a-block keys", () => {
  const keys: (string | Uint8Array)[] = [
    "k",
    "deployment secret",
    new Uint8Array(100).fill(9),
    new Uint8Array(64),
  ];
  for (const key of keys) {
    const hasher = hmacHasher(key);
    for (const value of ["", "ghp_abc", "naïve ☃ ключ", "x".repeat(1000)]) {
      assert.equal(hasher(value), createHmac("sha256", key).update(value).digest("hex"));
      assert.equal(hasher(value), hasher(value), "its states are copied, not consumed");
    }
  }
});

Deno.test("the per-process fallback hasher is stable within the process and keyed (not a bare SHA-256)", () => {
  const a = processHasher()("secret-value");
  assert.equal(processHasher()("secret-value"), a);
  assert.notEqual(a, createHash("sha256").update("secret-value").digest("hex"));
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(placeholder("jwt", a.slice(0, 8)), `[REDACTED:jwt:${a.slice(0, 8)}]`);
});
