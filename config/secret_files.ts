/**
 * Fleet-wide secrets come from files a deployment mounts (a Kubernetes Secret, a systemd credential):
 * the CA certificate and key, and the HMAC key that hashes API keys and proxy tokens. Every gateway of a
 * fleet must read the same files, or clients would distrust some replicas and attribution would differ.
 * A named key file must exist (it is never created in its place) and must not be readable by group or
 * others.
 * @module
 */

/** The environment variables and the data-path field each one replaces. */
export const SECRET_FILE_VARS = {
  caCert: "RECONDO_CA_CERT_FILE",
  caKey: "RECONDO_CA_KEY_FILE",
  secretKey: "RECONDO_HMAC_KEY_FILE",
} as const;

type Env = { get(name: string): string | undefined };

/** The data-path fields the environment overrides (only those set). */
export function secretFileOverrides(env: Env): Partial<Record<keyof typeof SECRET_FILE_VARS, string>> {
  const out: Partial<Record<keyof typeof SECRET_FILE_VARS, string>> = {};
  for (const [field, name] of Object.entries(SECRET_FILE_VARS)) {
    const value = env.get(name);
    if (value) out[field as keyof typeof SECRET_FILE_VARS] = value;
  }
  return out;
}

/**
 * Throws when a file named by the environment is missing, or when a key file (CA key, HMAC key) can be
 * read by group or others. Called before the gateway starts.
 */
export async function checkSecretFiles(env: Env): Promise<void> {
  for (const [field, name] of Object.entries(SECRET_FILE_VARS)) {
    const path = env.get(name);
    if (path) await checkSecretFile(name, path, { key: field !== "caCert" });
  }
}

/**
 * Throws unless `path` is a readable file and, for a key (`key: true`), one that group and others cannot
 * read. `label` says where the path came from (`RECONDO_CA_KEY_FILE`, `ui.tls.keyFile`). The caller says what
 * the refusal stops: the start, or a reload (which keeps the running config).
 */
export async function checkSecretFile(label: string, path: string, options: { key: boolean }): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw new Error(`${label} names ${path}, which cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!info.isFile) throw new Error(`${label} names ${path}, which is not a file`);
  if (options.key && info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new Error(
      `${label} names ${path}, which is readable by group or others (mode ${
        (info.mode & 0o777).toString(8)
      }); make it 0600 or 0400 (chmod go-rwx ${path})`,
    );
  }
}
