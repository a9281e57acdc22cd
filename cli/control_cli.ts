/**
 * What CLI commands that change the fleet's control plane share: the database control plane opened with
 * the HMAC key (`RECONDO_HMAC_KEY_FILE` or the data dir's key), so tokens hash as every gateway expects.
 * @module
 */
import { loadOrCreateHmacKey } from "../capture/credentials.ts";
import { dataDir, dataPaths } from "../config/paths.ts";
import { type ControlPlane, createDbControl } from "../control/db_control.ts";
import type { Db } from "../storage/db/db.ts";
import { createPolicyServices } from "../storage/ledger/mod.ts";

/** The control plane over `db` (PostgreSQL), for one CLI command. */
export async function openControlPlane(db: Db): Promise<ControlPlane> {
  const paths = dataPaths(dataDir());
  return createDbControl({
    db,
    cacheDir: paths.modules,
    hmacKey: await loadOrCreateHmacKey(paths.secretKey),
    // Validation builds the chain; building a spend cap or a throttle needs their services, not their data.
    services: createPolicyServices(db),
  });
}
