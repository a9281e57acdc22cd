import assert from "node:assert/strict";
import { testBothEngines } from "../db/test_engines.ts";
import type { BudgetWindow } from "../../policies/spend_cap/ledger.ts";
import { createSqlSpendLedger, currentBudgets } from "./sql_spend_ledger.ts";

const DAY = 86_400_000;

function window(scope: string, capMicros: number): BudgetWindow {
  return { key: `${scope}|day|2026-11-28`, scope, period: "day", start: 0, end: DAY, capMicros };
}

const opts = { at: 1000, expiresAt: 1000 + 60_000 };

testBothEngines("a reservation is refused once spent plus reserved would pass the cap", async ({ db }) => {
  const ledger = createSqlSpendLedger(db);
  const team = window("team:alpha", 1_000_000);
  assert.deepEqual(await ledger.reserve("r1", [team], 600_000, opts), {
    ok: true,
    states: [{ key: team.key, spentMicros: 0, reservedMicros: 600_000 }],
  });
  const refused = await ledger.reserve("r2", [team], 500_000, opts);
  assert.deepEqual(refused, {
    ok: false,
    key: team.key,
    state: { key: team.key, spentMicros: 0, reservedMicros: 600_000 },
  });
  assert.equal((await ledger.reserve("r3", [team], 400_000, opts)).ok, true);
});

testBothEngines("a multi-budget reservation takes all budgets or none", async ({ db }) => {
  const ledger = createSqlSpendLedger(db);
  const roomy = window("global", 10_000_000);
  const tight = window("developer:alice", 100_000);
  const result = await ledger.reserve("r1", [roomy, tight], 200_000, opts);
  assert.equal(result.ok, false);
  assert.deepEqual(await ledger.read([roomy.key, tight.key]), [
    { key: roomy.key, spentMicros: 0, reservedMicros: 0 },
    { key: tight.key, spentMicros: 0, reservedMicros: 0 },
  ]);
});

testBothEngines(
  "settling replaces the reservation by the actual cost and reports the crossing",
  async ({ db }) => {
    const ledger = createSqlSpendLedger(db);
    const team = window("team:alpha", 1_000_000);
    await ledger.reserve("r1", [team], 700_000, opts);
    const settled = await ledger.settle("r1", [team], 550_000, 2000);
    assert.deepEqual(settled, [{ key: team.key, spentBeforeMicros: 0, spentAfterMicros: 550_000 }]);
    assert.deepEqual(await ledger.read([team.key]), [{
      key: team.key,
      spentMicros: 550_000,
      reservedMicros: 0,
    }]);
    // A turn without a reservation (a WebSocket turn) is charged directly.
    await ledger.settle("ws-turn", [team], 10_000, 3000);
    assert.equal((await ledger.read([team.key]))[0].spentMicros, 560_000);
    const rows = await currentBudgets(db, 5000);
    assert.deepEqual(rows.map((r) => [r.scope, r.spentMicros]), [["team:alpha", 560_000]]);
  },
);

testBothEngines("release and expiry give a reservation back without charging", async ({ db }) => {
  const ledger = createSqlSpendLedger(db);
  const team = window("team:alpha", 1_000_000);
  await ledger.reserve("r1", [team], 300_000, opts);
  await ledger.reserve("r2", [team], 300_000, { at: 1000, expiresAt: 5000 });
  await ledger.release("r1", 2000);
  assert.equal((await ledger.read([team.key]))[0].reservedMicros, 300_000);
  assert.equal(await ledger.releaseExpired(4000), 0);
  assert.equal(await ledger.releaseExpired(6000), 1);
  assert.deepEqual(await ledger.read([team.key]), [{ key: team.key, spentMicros: 0, reservedMicros: 0 }]);
});

testBothEngines(
  "100 concurrent reservations from two handles admit exactly what the cap allows",
  async (ctx) => {
    const a = createSqlSpendLedger(ctx.db);
    const b = createSqlSpendLedger(await ctx.openAnother());
    const team = window("team:alpha", 1_000_000);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).reserve(`r${i}`, [team], 100_000, opts)),
    );
    assert.equal(results.filter((r) => r.ok).length, 10);
    assert.deepEqual(await a.read([team.key]), [{
      key: team.key,
      spentMicros: 0,
      reservedMicros: 1_000_000,
    }]);
  },
);
