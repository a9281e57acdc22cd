/**
 * Token buckets for `throttle` in SQL, shared by every replica. A take is one conditional `UPDATE` per
 * bucket that refills the bucket for the time elapsed and subtracts the cost only if enough is there, all
 * buckets in one transaction (all or none), locked in key order.
 * @module
 */
import type { Db, Queryable } from "../db/db.ts";
import type { RateLimiter, TakeResult } from "../../policies/throttle/buckets.ts";

/** Thrown inside the take transaction to roll it back; never escapes this module. */
class Empty extends Error {
  constructor(readonly key: string, readonly available: number, readonly retryAfterMs: number) {
    super(`bucket ${key} is empty`);
  }
}

function statements(engine: Db["engine"]) {
  const least = engine === "postgres" ? "LEAST" : "MIN";
  const greatest = engine === "postgres" ? "GREATEST" : "MAX";
  // $1 key, $2 capacity, $3 refill per ms, $4 now; the refilled level is computed in the statement.
  const level =
    `${least}(CAST($2 AS DOUBLE PRECISION), tokens + ${greatest}(0, CAST($4 AS BIGINT) - updated_at) * CAST($3 AS DOUBLE PRECISION))`;
  return {
    ensure:
      `INSERT INTO throttle_buckets (bucket_key, tokens, updated_at) VALUES ($1, CAST($2 AS DOUBLE PRECISION), $3)
      ON CONFLICT (bucket_key) DO NOTHING`,
    take: `UPDATE throttle_buckets SET tokens = ${level} - CAST($5 AS DOUBLE PRECISION),
      updated_at = ${greatest}(updated_at, CAST($4 AS BIGINT))
      WHERE bucket_key = $1 AND ${level} >= CAST($6 AS DOUBLE PRECISION) RETURNING tokens`,
    level: `SELECT ${level} AS level FROM throttle_buckets WHERE bucket_key = $1`,
    adjust:
      `UPDATE throttle_buckets SET tokens = ${least}(CAST($2 AS DOUBLE PRECISION), ${level} + CAST($5 AS DOUBLE PRECISION)),
      updated_at = ${greatest}(updated_at, CAST($4 AS BIGINT)) WHERE bucket_key = $1`,
  };
}

function sorted<T extends { key: string }>(buckets: readonly T[]): T[] {
  return [...buckets].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * A `RateLimiter` over `db` (migrated with `010_spend_ledger`, table `throttle_buckets`).
 * @example await createSqlRateLimiter(db).take([{ key: "developer:alice|rpm", capacity: 60, windowMs: 60_000, cost: 1, require: "full" }], Date.now())
 */
export function createSqlRateLimiter(db: Db): RateLimiter {
  const sql = statements(db.engine);
  const ensure = (tx: Queryable, key: string, capacity: number, at: number) =>
    tx.run(sql.ensure, [key, capacity, at]);
  return {
    async take(buckets, at): Promise<TakeResult> {
      try {
        await db.transaction(async (tx) => {
          for (const b of sorted(buckets)) {
            const rate = b.capacity / b.windowMs;
            await ensure(tx, b.key, b.capacity, at);
            const need = b.require === "full" ? b.cost : 1e-9;
            const rows = await tx.query(sql.take, [b.key, b.capacity, rate, at, b.cost, need]);
            if (rows.length > 0) continue;
            const [row] = await tx.query(sql.level, [b.key, b.capacity, rate, at]);
            const available = Number(row.level);
            const target = b.require === "full" ? b.cost : 1;
            throw new Empty(b.key, available, Math.max(1, Math.ceil((target - available) / rate)));
          }
        });
        return { ok: true };
      } catch (error) {
        if (error instanceof Empty) {
          return { ok: false, key: error.key, retryAfterMs: error.retryAfterMs, available: error.available };
        }
        throw error;
      }
    },

    async adjust(buckets, at): Promise<void> {
      if (buckets.length === 0) return;
      await db.transaction(async (tx) => {
        for (const b of sorted(buckets)) {
          await ensure(tx, b.key, b.capacity, at);
          await tx.run(sql.adjust, [b.key, b.capacity, b.capacity / b.windowMs, at, b.delta]);
        }
      });
    },
  };
}
