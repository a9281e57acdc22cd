import assert from "node:assert/strict";
import { buildChain } from "./build_chain.ts";

const base = { mode: "enforce", failMode: "closed", enabled: true, timeoutMs: 100 } as const;

Deno.test("unknown modules and bad options are named with the entry, the field and the value", async () => {
  await assert.rejects(
    () => buildChain([{ ...base, use: "no-such-thing" }], { baseDir: "/" }),
    /policies\[0\] \("no-such-thing"\): no built-in module of that name \(built-ins: .*block-list/,
  );
  await assert.rejects(
    () => buildChain([{ ...base, use: "block-list", options: { status: 200 } }], { baseDir: "/" }),
    /policies\[0\] \("block-list"\): options\.status too small: expected number to be >=400 \(got 200\)/,
  );
  await assert.rejects(
    () => buildChain([{ ...base, use: "./missing.ts" }], { baseDir: "/tmp" }),
    /policies\[0\] \("\.\/missing\.ts"\): importing \/tmp\/missing\.ts failed/,
  );
});

Deno.test("disabled entries are left out and names can be overridden", async () => {
  const chain = await buildChain([
    { ...base, use: "block-list", name: "no-opus", options: { models: ["claude-opus-*"] } },
    { ...base, use: "block-list", enabled: false },
  ], { baseDir: "/" });
  assert.deepEqual(chain.entries.map((e) => e.policy.name), ["no-opus"]);
  assert.equal(chain.needsRequestBody, true);
});
