import assert from "node:assert/strict";
import { type ChainEntry, PolicyChain } from "./chain.ts";
import { sigV4SignedHeaders, unsignablePatch } from "./signed_requests.ts";
import { makeExchange } from "./testing.ts";
import type { Policy, RequestPatch, RequestView } from "./types.ts";

const SIGNED = {
  authorization:
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261206/us-east-1/bedrock/aws4_request, " +
    "SignedHeaders=accept;content-type;host;x-amz-date, Signature=0123456789abcdef",
};

const redact: Policy = {
  name: "redact",
  onRequest: () => ({ kind: "modify", reason: "masked a secret", patch: { json: { messages: [] } } }),
};

function bedrockExchange(headers: Record<string, string>) {
  return makeExchange({
    host: "bedrock-runtime.us-east-1.amazonaws.com",
    provider: "bedrock",
    api: "bedrock.invoke_stream",
    path: "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream",
    headers,
    json: { messages: [{ role: "user", content: "my key is sk-secret" }] },
  });
}

function entry(policy: Policy, mode: ChainEntry["mode"]): ChainEntry {
  return { policy, mode, failMode: "closed", timeoutMs: 200 };
}

function applying(
  view: RequestView,
): { apply: (patch: RequestPatch) => RequestView; applied: RequestPatch[] } {
  const applied: RequestPatch[] = [];
  return { apply: (patch) => (applied.push(patch), view), applied };
}

Deno.test("a modify of a SigV4-signed body becomes a block that says why, in enforce mode", async () => {
  const { exchange, request } = bedrockExchange(SIGNED);
  const { apply, applied } = applying(request);
  const outcome = await new PolicyChain([entry(redact, "enforce")]).runRequest(exchange, request, apply);
  assert.equal(outcome.kind, "block");
  assert.deepEqual(applied, [], "the patch is never applied");
  if (outcome.kind !== "block") return;
  assert.equal(outcome.block.status, 400);
  assert.match(outcome.block.reason, /policy redact would modify this AWS SigV4-signed request/);
  assert.match(
    outcome.block.reason,
    /changes the signed body, which would break its signature \(masked a secret\)/,
  );
  assert.deepEqual(exchange.decisions.map((d) => [d.policy, d.kind, d.enforced, d.detail?.signedRequest]), [
    ["redact", "block", true, "modify-became-block"],
  ]);
});

Deno.test("in observe mode the same modify is recorded only, and the request goes on unchanged", async () => {
  const { exchange, request } = bedrockExchange(SIGNED);
  const { apply, applied } = applying(request);
  const outcome = await new PolicyChain([entry(redact, "observe")]).runRequest(exchange, request, apply);
  assert.deepEqual(outcome, { kind: "forward", patches: [] });
  assert.deepEqual(applied, []);
  assert.deepEqual(exchange.decisions.map((d) => [d.kind, d.enforced, d.reason, d.detail?.signedRequest]), [
    ["modify", false, "masked a secret", "modify-recorded-only"],
  ]);
});

Deno.test("an unsigned Bedrock request (skip-auth, bearer API key) is modified as usual", async () => {
  const { exchange, request } = bedrockExchange({ authorization: "Bearer ABSKQmVkcm9ja0FQSUtleQ" });
  const { apply, applied } = applying(request);
  const outcome = await new PolicyChain([entry(redact, "enforce")]).runRequest(exchange, request, apply);
  assert.equal(outcome.kind, "forward");
  assert.equal(applied.length, 1);
  assert.equal(exchange.decisions[0].kind, "modify");
});

Deno.test("only the body and signed headers are unsignable; unsigned headers and rerouting are not", () => {
  assert.deepEqual(sigV4SignedHeaders(SIGNED), new Set(["accept", "content-type", "host", "x-amz-date"]));
  assert.equal(sigV4SignedHeaders({ authorization: "Bearer x" }), null);
  assert.equal(
    unsignablePatch(SIGNED, { headers: { "X-Amz-Date": "20270101T000000Z" } }),
    "it changes the signed header x-amz-date",
  );
  assert.equal(unsignablePatch(SIGNED, { headers: { "x-recondo-note": "hi" } }), null);
  assert.equal(unsignablePatch(SIGNED, { upstreamOrigin: "https://127.0.0.1:9" }), null);
  assert.equal(unsignablePatch({}, { json: {} }), null);
});
