import assert from "node:assert/strict";
import { glibcTrim, startMemoryTrim } from "./memory_trim.ts";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("memory is trimmed once a load of connections has fallen away, and once more a little later", async () => {
  let open = 0;
  let trims = 0;
  const stop = startMemoryTrim({
    openConnections: () => open,
    trim: () => trims++,
    checkEveryMs: 5,
    // Far beyond the ticks below, so a slow timer on a busy machine cannot bring the follow-up forward.
    followUpMs: 1_000,
  });
  try {
    open = 30; // below what counts as load
    await tick(30);
    open = 0;
    await tick(30);
    assert.equal(trims, 0, "a small load is not worth a trim");
    open = 500;
    await tick(30);
    assert.equal(trims, 0, "never while the load is on");
    open = 300;
    await tick(30);
    assert.equal(trims, 0, "not at 60% of the peak");
    open = 10;
    await tick(30);
    assert.equal(trims, 1, "trimmed once below half of the peak");
    const trimmedAt = Date.now();
    while (trims < 2 && Date.now() - trimmedAt < 5_000) await tick(20);
    assert.equal(trims, 2, "and once more after the follow-up delay");
    assert.ok(Date.now() - trimmedAt >= 900, "the second trim waited for the follow-up delay");
    await tick(100);
    assert.equal(trims, 2, "a gateway that stays quiet is left alone");
  } finally {
    stop();
  }
});

Deno.test("glibc's malloc_trim is found through FFI where it is permitted", () => {
  // deno test runs with --allow-all on glibc Linux, as serve does.
  const trim = glibcTrim();
  assert.ok(trim, "malloc_trim bound");
  trim();
});
