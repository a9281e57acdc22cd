import assert from "node:assert/strict";
import { testBothEngines } from "../db/test_engines.ts";
import { diffChains, publishChain, rollbackChain } from "../../policies/versions/mod.ts";
import { createSqlPolicyVersionStore } from "./sql_policy_versions.ts";

const CAP = [{ use: "spend-cap", options: { budgets: [{ scope: "team:alpha", usd: 25, period: "day" }] } }];
const BOTH = [...CAP, { use: "block-list", options: { models: ["gpt-4*"] } }];

testBothEngines(
  "versions record who changed the chain, roll back as a new version, and refuse a bad chain",
  async ({ db }) => {
    const store = createSqlPolicyVersionStore(db);
    const applied: unknown[][] = [];
    let clock = 1000;
    const deps = {
      validate: (entries: unknown[]) =>
        entries.some((e) => (e as { use: string }).use === "nope")
          ? Promise.reject(new Error('Cannot load policy policies[0] ("nope")'))
          : Promise.resolve(),
      apply: (entries: unknown[]) => {
        applied.push(entries);
        return Promise.resolve();
      },
      now: () => clock++,
    };
    const v1 = await publishChain(store, { entries: CAP, author: "ana", note: "cap alpha" }, deps);
    const v2 = await publishChain(store, { entries: BOTH, author: "ben" }, deps);
    assert.deepEqual([v1.version, v2.version, v2.basedOn, v2.author], [1, 2, 1, "ben"]);
    await assert.rejects(publishChain(store, { entries: [{ use: "nope" }], author: "ana" }, deps), /nope/);
    const v3 = await rollbackChain(store, 1, { author: "ana" }, deps);
    assert.deepEqual([v3.version, v3.action, v3.basedOn, v3.note], [
      3,
      "rollback",
      1,
      "rollback to version 1",
    ]);
    assert.deepEqual(v3.entries, CAP);
    assert.deepEqual(applied, [CAP, BOTH, CAP]);
    assert.deepEqual((await store.list()).map((v) => [v.version, v.author, v.createdAt]), [
      [3, "ana", 1002],
      [2, "ben", 1001],
      [1, "ana", 1000],
    ]);
    await assert.rejects(rollbackChain(store, 9, { author: "ana" }, deps), /no such version/);
    await assert.rejects(db.run("UPDATE policy_versions SET author = 'eve'"), /append-only/);
    assert.deepEqual(diffChains(CAP, BOTH), [{ change: "added", index: 1, use: "block-list" }]);
  },
);
