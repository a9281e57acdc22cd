/**
 * Where Recondo keeps its files. `RECONDO_DATA_DIR` overrides the default `~/.recondo`.
 * @module
 */
import { join } from "node:path";

/** The data directory: `RECONDO_DATA_DIR`, else `$HOME/.recondo`. */
export function dataDir(env: { get(name: string): string | undefined } = Deno.env): string {
  const explicit = env.get("RECONDO_DATA_DIR");
  if (explicit) return explicit;
  const home = env.get("HOME");
  if (!home) throw new Error("Cannot find a data directory: set RECONDO_DATA_DIR or HOME");
  return join(home, ".recondo");
}

/** The well-known files under a data directory. */
export function dataPaths(dir: string) {
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
  };
}

export type DataPaths = ReturnType<typeof dataPaths>;
