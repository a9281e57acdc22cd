import assert from "node:assert/strict";
import { createHealth } from "./health.ts";

const readyz = new Request("http://gateway/readyz");

Deno.test("readyz is ready when not draining and every check returns no reasons", async () => {
  const health = createHealth({ draining: () => false, readiness: () => Promise.resolve([]) });
  const res = await health.handle(readyz)!;
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "ready" });
});

Deno.test("readyz is 503 with the reason draining while healthz stays 200", async () => {
  const health = createHealth({ draining: () => true });
  const res = await health.handle(readyz)!;
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { status: "not ready", reasons: ["draining"] });
  assert.equal((await health.handle(new Request("http://gateway/healthz"))!).status, 200);
});

Deno.test("readyz reports the reasons a readiness check returns", async () => {
  const health = createHealth({
    draining: () => false,
    readiness: () => Promise.resolve(["database unreachable"]),
  });
  const res = await health.handle(readyz)!;
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { status: "not ready", reasons: ["database unreachable"] });
});

Deno.test("a readiness check that throws makes readyz 503 naming the error", async () => {
  const health = createHealth({
    draining: () => false,
    readiness: () => Promise.reject(new Error("connection refused")),
  });
  assert.deepEqual(await health.reasons(), ["readiness check failed: connection refused"]);
});

Deno.test("a readiness check that hangs counts as not ready after its timeout", async () => {
  const hang = Promise.withResolvers<string[]>();
  const health = createHealth({ draining: () => false, readiness: () => hang.promise, timeoutMs: 20 });
  assert.deepEqual(await health.reasons(), ["readiness check timed out after 20 ms"]);
  hang.resolve([]);
});

Deno.test("other paths are left to the caller", () => {
  assert.equal(createHealth({ draining: () => false }).handle(new Request("http://gateway/metrics")), null);
});
