/**
 * Opens the configured object store: `RECONDO_OBJECTS=local` (default, `<data dir>/objects`) or `s3`.
 * @module
 */
import type { DataPaths } from "../../config/paths.ts";
import { openLocalObjectStore } from "./local.ts";
import { openS3ObjectStore, s3OptionsFromEnv } from "./s3.ts";
import type { ObjectStore } from "./store.ts";

export type { ObjectMeta, ObjectStore } from "./store.ts";
export { gunzipBytes, gzipBytes, loadBody, sha256Hex, storeBody } from "./content.ts";
export { openLocalObjectStore } from "./local.ts";
export { openS3ObjectStore, s3OptionsFromEnv, type S3StoreOptions } from "./s3.ts";

/** The store named by `RECONDO_OBJECTS`. */
export async function openObjectStore(
  paths: Pick<DataPaths, "objects">,
  env: { get(name: string): string | undefined },
): Promise<ObjectStore> {
  const kind = env.get("RECONDO_OBJECTS") ?? "local";
  if (kind === "local") return await openLocalObjectStore(paths.objects);
  if (kind === "s3") return openS3ObjectStore(s3OptionsFromEnv(env));
  throw new Error(`RECONDO_OBJECTS must be "local" or "s3", got "${kind}"`);
}
