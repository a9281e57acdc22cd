import assert from "node:assert/strict";
import { type ChainEntry, PolicyChain } from "./chain.ts";
import { makeExchange } from "./testing.ts";
import type { Policy, RequestPatch, RequestView } from "./types.ts";

function entry(policy: Policy, overrides: Partial<ChainEntry> = {}): ChainEntry {
  return { policy, mode: "enforce", failMode: "closed", timeoutMs: 200, ...overrides };
}

function applyJson(view: RequestView): (patch: RequestPatch) => RequestView {
  let current = view;
  return (patch) => (current = { ...current, json: patch.json ?? current.json });
}

Deno.test("request hooks run in chain order and response hooks in reverse", async () => {
  const calls: string[] = [];
  const tracer = (name: string): Policy => ({
    name,
    onRequest: () => (calls.push(`request:${name}`), { kind: "allow" }),
    onResponse: () => (calls.push(`response:${name}`), { kind: "allow" }),
    onEnd: () => void calls.push(`end:${name}`),
  });
  const chain = new PolicyChain([entry(tracer("a")), entry(tracer("b")), entry(tracer("c"))]);
  const { exchange, request } = makeExchange({ json: {} });
  assert.equal((await chain.runRequest(exchange, request, applyJson(request))).kind, "forward");
  assert.equal(await chain.runResponse(exchange), null);
  await chain.runEnd(exchange, null);
  assert.deepEqual(calls, [
    "request:a",
    "request:b",
    "request:c",
    "response:c",
    "response:b",
    "response:a",
    "end:c",
    "end:b",
    "end:a",
  ]);
});

Deno.test("a later policy sees the request as an earlier modify left it", async () => {
  let seen: unknown;
  const chain = new PolicyChain([
    entry({
      name: "rewrite",
      onRequest: () => ({ kind: "modify", reason: "downgrade", patch: { json: { model: "small" } } }),
    }),
    entry({ name: "watch", onRequest: (_ex, req) => ((seen = req.json), { kind: "allow" }) }),
  ]);
  const { exchange, request } = makeExchange({ json: { model: "big" } });
  const outcome = await chain.runRequest(exchange, request, applyJson(request));
  assert.deepEqual(seen, { model: "small" });
  assert.deepEqual(outcome, { kind: "forward", patches: [{ json: { model: "small" } }] });
  assert.deepEqual(exchange.decisions.map((d) => [d.policy, d.kind, d.enforced]), [[
    "rewrite",
    "modify",
    true,
  ], ["watch", "allow", false]]);
});

Deno.test("a block stops the chain; in observe mode it is only recorded", async () => {
  let reached = false;
  const blocker: Policy = { name: "no", onRequest: () => ({ kind: "block", status: 400, reason: "nope" }) };
  const after: Policy = { name: "after", onRequest: () => ((reached = true), { kind: "allow" }) };
  const { exchange, request } = makeExchange({ json: {} });
  const enforced = await new PolicyChain([entry(blocker), entry(after)]).runRequest(
    exchange,
    request,
    applyJson(request),
  );
  assert.equal(enforced.kind, "block");
  assert.equal(reached, false);
  const observed = await new PolicyChain([entry(blocker, { mode: "observe" }), entry(after)]).runRequest(
    exchange,
    request,
    applyJson(request),
  );
  assert.equal(observed.kind, "forward");
  assert.equal(reached, true);
  assert.deepEqual(exchange.decisions.filter((d) => d.policy === "no").map((d) => d.enforced), [true, false]);
});

Deno.test("a hook past its time budget fails closed, or open when configured, and its signal aborts", async () => {
  let aborted = false;
  const slow: Policy = {
    name: "slow",
    onRequest: (_ex, _req, ctx) =>
      new Promise((resolve) => {
        ctx.signal.addEventListener("abort", () => (aborted = true));
        setTimeout(() => resolve({ kind: "allow" }), 1000);
      }),
  };
  const { exchange, request } = makeExchange({ json: {} });
  const closed = await new PolicyChain([entry(slow, { timeoutMs: 50 })]).runRequest(
    exchange,
    request,
    applyJson(request),
  );
  assert.equal(closed.kind, "block");
  assert.match(
    closed.kind === "block" ? closed.block.reason : "",
    /could not decide \(exceeded its 50 ms budget\)/,
  );
  assert.equal(aborted, true);
  const open = await new PolicyChain([entry(slow, { timeoutMs: 50, failMode: "open" })]).runRequest(
    exchange,
    request,
    applyJson(request),
  );
  assert.equal(open.kind, "forward");
  assert.deepEqual(exchange.decisions.map((d) => [d.kind, d.enforced]), [["timeout", true], [
    "timeout",
    false,
  ]]);
});

Deno.test("an event hook that throws fails the stream closed; allows are not logged per event", () => {
  const chain = new PolicyChain([
    entry({ name: "quiet", onEvent: () => ({ kind: "allow" }) }),
    entry({
      name: "broken",
      onEvent: () => {
        throw new Error("bad state");
      },
    }),
  ]);
  const { exchange } = makeExchange();
  const block = chain.runEvent(exchange, { type: "text_delta", index: 0, text: "hi" });
  assert.equal(block?.status, 503);
  assert.deepEqual(exchange.decisions.map((d) => [d.policy, d.kind]), [["broken", "error"]]);
});
