/**
 * "What would this chain have done?" for the Policies page: replays captured exchanges of the last days
 * through a candidate chain built on a throwaway in-memory ledger (so the rehearsal spends no real
 * budget), with the chain's clock moved to each exchange's time. The policy versions API does the replay
 * (`simulateChain`); storage reads the traffic back (`capturedExchanges`).
 * @module
 */
import { dirname } from "node:path";
import { z } from "zod";
import { policyEntrySchema } from "../config/schema.ts";
import { buildChain } from "../policies/build_chain.ts";
import { simulateChain, type SimulationReport } from "../policies/versions/mod.ts";
import type { Db } from "../storage/db/db.ts";
import { migrate } from "../storage/db/migrate.ts";
import { openSqlite } from "../storage/db/sqlite.ts";
import { capturedExchanges, createPolicyServices } from "../storage/ledger/mod.ts";
import type { ObjectStore } from "../storage/objects/store.ts";

/** Replays the last `days` of captured traffic through `entries`. */
export async function simulateEntries(
  entries: unknown[],
  options: { db: Db; objects: ObjectStore | null; configPath: string; days: number; now?: number },
): Promise<SimulationReport> {
  const parsed = z.array(policyEntrySchema).parse(entries);
  const ledger = openSqlite(":memory:");
  try {
    await migrate(ledger);
    let clock = 0;
    const chain = await buildChain(parsed, {
      baseDir: dirname(options.configPath),
      services: createPolicyServices(ledger),
      now: () => clock,
    });
    const since = (options.now ?? Date.now()) - options.days * 86_400_000;
    return await simulateChain(chain, capturedExchanges(options.db, options.objects, { since }), {
      setNow: (at) => clock = at,
    });
  } finally {
    await ledger.close();
  }
}
