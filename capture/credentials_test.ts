import assert from "node:assert/strict";
import { join } from "node:path";
import {
  apiKeyOf,
  hashApiKey,
  loadOrCreateHmacKey,
  stripCredentialHeaders,
  stripCredentialQuery,
} from "./credentials.ts";

Deno.test("credential headers are dropped whatever their case, other headers kept", () => {
  const kept = stripCredentialHeaders({
    "Authorization": "Bearer sk-1",
    "x-api-key": "sk-ant-2",
    "x-goog-api-key": "AIza3",
    "Api-Key": "azure-4",
    "cookie": "a=b",
    "set-cookie": "c=d",
    "proxy-authorization": "Basic eA==",
    "anthropic-version": "2023-06-01",
  });
  assert.deepEqual(kept, { "anthropic-version": "2023-06-01" });
});

Deno.test("a key in the query string is removed from the stored path", () => {
  assert.deepEqual(stripCredentialQuery("/v1beta/models/g:generateContent?key=AIzaXYZ&alt=sse"), {
    path: "/v1beta/models/g:generateContent?alt=sse",
    key: "AIzaXYZ",
  });
  assert.deepEqual(stripCredentialQuery("/v1/messages?beta=true"), {
    path: "/v1/messages?beta=true",
    key: null,
  });
});

Deno.test("api keys are found in each provider's header and hashed with the data-dir key", async () => {
  assert.equal(apiKeyOf({ "x-api-key": "sk-ant" }), "sk-ant");
  assert.equal(apiKeyOf({ authorization: "Bearer sk-openai" }), "sk-openai");
  assert.equal(apiKeyOf({ "x-goog-api-key": "AIza" }), "AIza");
  assert.equal(apiKeyOf({ "Api-Key": " azure-key " }), "azure-key");
  assert.equal(apiKeyOf({}, "AIzaQ"), "AIzaQ");
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "keys", "hmac.key");
    const key = await loadOrCreateHmacKey(path);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual(await loadOrCreateHmacKey(path), key, "the key is stable across loads");
    const hash = hashApiKey(key, "sk-ant");
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(hash, hashApiKey(key, "sk-ant"));
    assert.notEqual(hash, hashApiKey(crypto.getRandomValues(new Uint8Array(32)), "sk-ant"));
    assert.ok(!hash.includes("sk-ant"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a SigV4 request is attributed by its access key id, hashed, and its signature headers are dropped", () => {
  const headers = {
    Authorization:
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261206/us-east-1/bedrock/aws4_request, " +
      "SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    "x-amz-security-token": "FwoGZXIvYXdzEXAMPLETOKEN",
    "x-amz-date": "20261206T223900Z",
  };
  assert.equal(apiKeyOf(headers), "AKIAIOSFODNN7EXAMPLE");
  const secret = new Uint8Array(32).fill(7);
  const hash = hashApiKey(secret, "AKIAIOSFODNN7EXAMPLE");
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.notEqual(hash, "AKIAIOSFODNN7EXAMPLE");
  assert.deepEqual(stripCredentialHeaders(headers), { "x-amz-date": "20261206T223900Z" });
});
