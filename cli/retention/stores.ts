/**
 * Opens the stores the gateway writes for the deletion commands, chosen as `serve` chooses them (through
 * the inspector's `openStores`: database from `RECONDO_STORE`/`RECONDO_DB_URL`, object store from
 * `RECONDO_OBJECTS` or the config's `capture.s3`, a missing SQLite file an error so a mistyped data dir does
 * not report "nothing to delete"), plus the config itself for `capture.retention`.
 * @module
 */
import { configPath, loadConfig } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import type { Db } from "../../storage/db/db.ts";
import type { ObjectStore } from "../../storage/objects/store.ts";
import { type Env, openStores } from "../inspect/open_stores.ts";

export type { Env } from "../inspect/open_stores.ts";

/** The open stores and the config; dispose to close them. */
export interface RetentionStores extends AsyncDisposable {
  config: Config;
  db: Db;
  objects: ObjectStore;
}

/** Loads the config and opens the database and the object store. */
export async function openRetentionStores(env: Env): Promise<RetentionStores> {
  const config = await loadConfig(configPath(env), env);
  const stores = await openStores(env, { objects: true });
  return {
    config,
    db: stores.db,
    objects: stores.objects!,
    [Symbol.asyncDispose]: () => stores[Symbol.asyncDispose](),
  };
}
