/**
 * Where Recondo keeps its files. `RECONDO_DATA_DIR` overrides the default `~/.recondo`.
 * @module
 */
import { join } from "node:path";
import { secretFileOverrides } from "./secret_files.ts";

/** The data directory: `RECONDO_DATA_DIR`, else `$HOME/.recondo`. */
export function dataDir(env: { get(name: string): string | undefined } = Deno.env): string {
  const explicit = env.get("RECONDO_DATA_DIR");
  if (explicit) return explicit;
  const home = env.get("HOME");
  if (!home) throw new Error("Cannot find a data directory: set RECONDO_DATA_DIR or HOME");
  return join(home, ".recondo");
}

/**
 * The well-known files under a data directory. The CA certificate and key and the HMAC key may live
 * elsewhere, named by `RECONDO_CA_CERT_FILE`, `RECONDO_CA_KEY_FILE` and `RECONDO_HMAC_KEY_FILE` in `env`
 * (see `secret_files.ts`).
 */
export function dataPaths(dir: string, env: { get(name: string): string | undefined } = Deno.env) {
  return {
    dir,
    config: join(dir, "recondo.json"),
    caDir: join(dir, "ca"),
    caCert: join(dir, "ca", "ca.crt"),
    caKey: join(dir, "ca", "ca.key"),
    leafKey: join(dir, "ca", "leaf.key"),
    extraRoots: join(dir, "ca", "extra_roots.pem"),
    objects: join(dir, "objects"),
    journal: join(dir, "journal"),
    database: join(dir, "recondo.db"),
    secretKey: join(dir, "keys", "hmac.key"),
    signingKey: join(dir, "keys", "signing.jwk"),
    modules: join(dir, "modules"),
    ...secretFileOverrides(env),
  };
}

export type DataPaths = ReturnType<typeof dataPaths>;
