/**
 * Opens the stores the gateway writes for the deletion commands, chosen as `serve` chooses them: the
 * database from `RECONDO_STORE`/`RECONDO_DB_URL`, the object store from `RECONDO_OBJECTS` or the config's
 * `capture.s3` (with `RECONDO_S3_*` winning), and the config itself for `capture.retention`. A missing
 * SQLite file is an error, so a mistyped data dir does not report "nothing to delete".
 * @module
 */
import { configPath, loadConfig } from "../../config/load.ts";
import { dataDir, dataPaths } from "../../config/paths.ts";
import type { Config } from "../../config/schema.ts";
import type { Db } from "../../storage/db/db.ts";
import { openDatabase } from "../../storage/db/mod.ts";
import { openObjectStore } from "../../storage/objects/mod.ts";
import type { ObjectStore } from "../../storage/objects/store.ts";

/** Environment lookup, `Deno.env` in production. */
export type Env = { get(name: string): string | undefined };

/** The open stores and the config; dispose to close them. */
export interface RetentionStores extends AsyncDisposable {
  config: Config;
  db: Db;
  objects: ObjectStore;
}

/** Loads the config and opens the database and the object store. */
export async function openRetentionStores(env: Env): Promise<RetentionStores> {
  const config = await loadConfig(configPath(env), env);
  const paths = dataPaths(dataDir(env));
  if ((env.get("RECONDO_STORE") ?? "sqlite") === "sqlite") {
    try {
      await Deno.stat(paths.database);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(`No capture database at ${paths.database} (set RECONDO_DATA_DIR or RECONDO_STORE)`);
      }
      throw error;
    }
  }
  const db = await openDatabase(paths, env);
  let objects: ObjectStore;
  try {
    objects = await openObjectStore(paths, env, config.capture.s3);
  } catch (error) {
    await db.close();
    throw error;
  }
  return {
    config,
    db,
    objects,
    async [Symbol.asyncDispose]() {
      await db.close();
      await objects.close();
    },
  };
}
