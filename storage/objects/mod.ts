/**
 * Opens the configured object store: `RECONDO_OBJECTS=local` (default, `<data dir>/objects`) or `s3`;
 * without `RECONDO_OBJECTS`, a bucket in `capture.s3` selects S3.
 * @module
 */
import type { DataPaths } from "../../config/paths.ts";
import { openLocalObjectStore } from "./local.ts";
import { openS3ObjectStore } from "./s3.ts";
import { objectStoreKind, s3Options } from "./s3_settings.ts";
import type { S3Config } from "../../config/schema.ts";
import type { ObjectStore } from "./store.ts";

export type { ObjectMeta, ObjectStore } from "./store.ts";
export { gunzipBytes, gzipBytes, loadBody, sha256Hex, storeBody } from "./content.ts";
export { openLocalObjectStore } from "./local.ts";
export { openS3ObjectStore, s3OptionsFromEnv, type S3StoreOptions } from "./s3.ts";
export { objectStoreKind, s3Options } from "./s3_settings.ts";

/** The store named by `RECONDO_OBJECTS` or `capture.s3` (pass `config.capture.s3`; env wins). */
export async function openObjectStore(
  paths: Pick<DataPaths, "objects">,
  env: { get(name: string): string | undefined },
  s3?: S3Config,
): Promise<ObjectStore> {
  if (objectStoreKind(s3, env) === "local") return await openLocalObjectStore(paths.objects);
  return openS3ObjectStore(s3Options(s3, env));
}
