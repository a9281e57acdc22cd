import assert from "node:assert/strict";
import { createTrimmer, glibcTrim, startMemoryTrim } from "./memory_trim.ts";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("memory is trimmed once a load of connections has fallen away, and once more a little later", async () => {
  let trims = 0;
  const trimmer = createTrimmer(() => trims++, 200);
  try {
    // Each check is what the gateway's interval sees: the connections open at that moment.
    for (
      const [open, expected, why] of [
        [30, 0, "a small load is not worth a trim"],
        [0, 0, "a small load is not worth a trim"],
        [500, 0, "never while the load is on"],
        [300, 0, "not at 60% of the peak"],
        [10, 1, "trimmed once below half of the peak"],
        [8, 1, "the peak starts again from the trim"],
      ] as const
    ) {
      trimmer.check(open);
      assert.equal(trims, expected, `${why} (${open} open)`);
    }
    const trimmedAt = Date.now();
    while (trims < 2 && Date.now() - trimmedAt < 5_000) await tick(20);
    assert.equal(trims, 2, "and once more after the follow-up delay");
    assert.ok(Date.now() - trimmedAt >= 150, "the second trim waited for the follow-up delay");
    await tick(300);
    assert.equal(trims, 2, "a gateway that stays quiet is left alone");
  } finally {
    trimmer.stop();
  }
});

Deno.test("the gateway's interval feeds the trimmer the connections open", async () => {
  let open = 500;
  let trims = 0;
  const stop = startMemoryTrim({ openConnections: () => open, trim: () => trims++, checkEveryMs: 5 });
  try {
    const since = Date.now();
    while (trims === 0 && Date.now() - since < 2_000) {
      await tick(10);
      if (Date.now() - since > 50) open = 0; // the load falls away after some checks saw it
    }
    assert.equal(trims, 1, "trimmed once the load was gone");
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
