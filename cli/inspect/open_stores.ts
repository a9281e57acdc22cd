/**
 * Opens the stores the gateway writes, chosen the same way (`RECONDO_STORE`, `RECONDO_DB_URL`,
 * `RECONDO_OBJECTS`, `RECONDO_S3_BUCKET`, `AWS_ENDPOINT_URL`, data dir from `RECONDO_DATA_DIR`), for the
 * read-only commands: the inspector and `verify`. A missing SQLite file is an error rather than a fresh
 * empty database, so a mistyped data dir is not reported as "nothing captured, all verified".
 * @example
 * await using stores = await openStores(Deno.env, { objects: true });
 * const sessions = await listSessions(stores.db);
 * @module
 */
import { dataDir, type DataPaths, dataPaths } from "../../config/paths.ts";
import { configPath, loadConfig } from "../../config/load.ts";
import { openDatabase } from "../../storage/db/mod.ts";
import type { Db } from "../../storage/db/db.ts";
import { openObjectStore } from "../../storage/objects/mod.ts";
import type { ObjectStore } from "../../storage/objects/store.ts";

/** Environment lookup, `Deno.env` in production. */
export type Env = { get(name: string): string | undefined };

/** The open stores; dispose to close them. */
export interface Stores extends AsyncDisposable {
  paths: DataPaths;
  db: Db;
  /** Present when asked for with `{ objects: true }`. */
  objects: ObjectStore | null;
}

/** Opens the database (and, when asked, the object store) named by `env`. */
export async function openStores(env: Env, options: { objects?: boolean } = {}): Promise<Stores> {
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
  let objects: ObjectStore | null = null;
  if (options.objects) {
    try {
      // The S3 settings may live in the config (`capture.s3`), as `serve` reads them.
      const config = await loadConfig(configPath(env), env);
      objects = await openObjectStore(paths, env, config.capture.s3);
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  const close = async () => {
    await db.close();
    await objects?.close();
  };
  return { paths, db, objects, [Symbol.asyncDispose]: close };
}
