/**
 * Chooses where a gateway's chain and developers come from. With PostgreSQL the database is the control
 * plane (the first gateway on an empty one imports the config file's `policies` and `developers` as
 * version 1; afterwards the file's copies are ignored, with one warning). With SQLite the config file is.
 * @module
 */
import { dirname, resolve } from "node:path";
import type { ControlSource } from "../config/control.ts";
import type { DataPaths } from "../config/paths.ts";
import type { Config } from "../config/schema.ts";
import { log } from "../core/log.ts";
import { type ControlPlane, createDbControl } from "../control/db_control.ts";
import { fileControlSource } from "../control/file_source.ts";
import type { PolicyServices } from "../policies/types.ts";
import type { Db } from "../storage/db/db.ts";

/** The chosen source, and the writer when it is the database. */
export interface ControlWiring {
  source: ControlSource;
  plane: ControlPlane | null;
}

/** Opens the control plane for `serve` (and for CLI commands that change it). */
export async function wireControl(options: {
  db: Db;
  paths: DataPaths;
  config: Config;
  configPath: string;
  hmacKey: Uint8Array;
  services?: PolicyServices;
  env?: { get(name: string): string | undefined };
  /** Import the file's policies and developers into an empty control plane (serve: yes; CLI: no). */
  importFile?: boolean;
}): Promise<ControlWiring> {
  const env = options.env ?? Deno.env;
  if (options.db.engine !== "postgres") {
    return {
      source: fileControlSource(options.configPath, env, { cacheDir: options.paths.modules }),
      plane: null,
    };
  }
  const plane = createDbControl({
    db: options.db,
    listenUrl: env.get("RECONDO_DB_URL"),
    cacheDir: options.paths.modules,
    hmacKey: options.hmacKey,
    pollMs: options.config.fleet.pollSeconds * 1000,
    services: options.services,
  });
  if (options.importFile) {
    await plane.checkFleetKey();
    const outcome = await plane.importFromConfig(options.config, dirname(resolve(options.configPath)));
    if (outcome === "imported") {
      log.info("control.imported", {
        from: options.configPath,
        policies: options.config.policies.length,
        developers: options.config.developers.length,
      });
    } else if (outcome === "ignored") {
      log.warn("control.file_ignored", {
        file: options.configPath,
        message: "the database is the control plane: `policies` and `developers` in this file are ignored; " +
          "change them with `recondo policies publish`, `recondo developers …` or the UI",
      });
    }
  }
  return { source: plane, plane };
}
