import assert from "node:assert/strict";
import { testBothEngines } from "../db/test_engines.ts";
import type { BucketSpec } from "../../policies/throttle/buckets.ts";
import { createSqlRateLimiter } from "./sql_rate_limiter.ts";

const rpm = (cost = 1): BucketSpec => ({
  key: "developer:alice|rpm",
  capacity: 3,
  windowMs: 60_000,
  cost,
  require: "full",
});

testBothEngines("a bucket admits its capacity, then says when it will admit again", async ({ db }) => {
  const limiter = createSqlRateLimiter(db);
  for (let i = 0; i < 3; i++) assert.deepEqual(await limiter.take([rpm()], 0), { ok: true });
  const refused = await limiter.take([rpm()], 0);
  assert.equal(refused.ok, false);
  if (!refused.ok) {
    assert.equal(refused.key, "developer:alice|rpm");
    assert.equal(refused.retryAfterMs, 20_000); // 3 per minute: one token every 20 s
  }
  assert.equal((await limiter.take([rpm()], 19_000)).ok, false);
  assert.equal((await limiter.take([rpm()], 20_000)).ok, true);
});

testBothEngines(
  "token buckets may go negative after the fact and then refuse until refilled",
  async ({ db }) => {
    const limiter = createSqlRateLimiter(db);
    const tpm: BucketSpec = {
      key: "team:a|tpm",
      capacity: 600,
      windowMs: 60_000,
      cost: 100,
      require: "positive",
    };
    assert.equal((await limiter.take([tpm], 0)).ok, true);
    await limiter.adjust([{ key: tpm.key, capacity: 600, windowMs: 60_000, delta: -1000 }], 0);
    const refused = await limiter.take([tpm], 0);
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.available, -500);
      assert.equal(refused.retryAfterMs, 50_100); // from -500 to 1 token at 10 per second
    }
    assert.equal((await limiter.take([tpm], 50_000)).ok, false);
    assert.equal((await limiter.take([tpm], 50_100)).ok, true);
  },
);

testBothEngines("a take over several buckets is all or nothing", async ({ db }) => {
  const limiter = createSqlRateLimiter(db);
  const wide: BucketSpec = { ...rpm(), key: "team:a|rpm", capacity: 100 };
  for (let i = 0; i < 3; i++) await limiter.take([wide, rpm()], 0);
  assert.equal((await limiter.take([wide, rpm()], 0)).ok, false);
  // The team bucket was not charged for the refused call: 97 left, so 97 single takes pass.
  let passed = 0;
  for (let i = 0; i < 98; i++) if ((await limiter.take([wide], 0)).ok) passed++;
  assert.equal(passed, 97);
});

testBothEngines("concurrent takes from two handles never admit more than the bucket holds", async (ctx) => {
  const a = createSqlRateLimiter(ctx.db);
  const b = createSqlRateLimiter(await ctx.openAnother());
  const bucket: BucketSpec = { ...rpm(), capacity: 10 };
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).take([bucket], 0)));
  assert.equal(results.filter((r) => r.ok).length, 10);
});
