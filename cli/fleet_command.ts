/**
 * `recondo fleet status [--json]`: every gateway attached to this database, from their heartbeats: id,
 * host, version, the chain version it runs (and why it could not apply a newer one), in-flight exchanges,
 * capture backlog, draining, and `lost` for one silent longer than `fleet.lostAfterSeconds`.
 * @module
 */
import { configPath, loadConfig } from "../config/load.ts";
import { dataDir, dataPaths } from "../config/paths.ts";
import { openDatabase } from "../storage/db/mod.ts";
import { type GatewayStatus, listGateways } from "../storage/fleet/gateways.ts";
import { renderTable, useColor } from "./inspect/table.ts";
import type { CommandModule } from "./yargs.ts";

interface FleetArgs {
  action: "status";
  json: boolean;
}

export const fleetCommand: CommandModule<Record<string, unknown>, FleetArgs> = {
  command: "fleet <action>",
  describe: "The gateways sharing this database: fleet status [--json]",
  builder: (y) =>
    y
      .positional("action", { choices: ["status"] as const, describe: "What to show" })
      .option("json", { type: "boolean", default: false, describe: "Print JSON" }) as never,
  async handler(args) {
    const config = await loadConfig(configPath());
    const db = await openDatabase(dataPaths(dataDir()), Deno.env);
    try {
      const gateways = await listGateways(db, { lostAfterMs: config.fleet.lostAfterSeconds * 1000 });
      if (args.json) return console.log(JSON.stringify(gateways, null, 2));
      if (!gateways.length) return console.log("No gateway has reported to this database yet.");
      const ago = (t: number) => `${Math.max(0, Math.round((Date.now() - t) / 1000))} s ago`;
      console.log(renderTable<GatewayStatus>(
        [
          { header: "gateway", value: (g) => g.id },
          { header: "status", value: (g) => g.status },
          { header: "version", value: (g) => g.version },
          {
            header: "chain",
            value: (g) =>
              g.chainVersion === null ? "file" : `v${g.chainVersion}${g.chainError ? " (newer failed)" : ""}`,
          },
          { header: "in flight", value: (g) => g.inFlight },
          { header: "backlog", value: (g) => g.captureBacklog },
          { header: "last seen", value: (g) => ago(g.lastSeen) },
          { header: "started", value: (g) => new Date(g.startedAt).toISOString() },
        ],
        gateways,
        { color: useColor() },
      ));
      for (const g of gateways.filter((g) => g.chainError)) {
        console.log(`${g.id}: cannot apply the newest chain: ${g.chainError}`);
      }
    } finally {
      await db.close();
    }
  },
};
