/**
 * Reading and writing the CA's files safely: every write goes to a temporary file in the same directory
 * and is renamed into place (a crash never leaves half a key), and private keys are created 0600 and
 * re-checked on every load, because a key readable by other users defeats the name constraints' purpose.
 * @module
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { log } from "../../core/log.ts";

/** Writes `text` to `path` atomically (temp file + rename) with the given file mode. */
export async function writeFileAtomic(path: string, text: string, mode: number): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    await Deno.writeTextFile(temp, text, { mode, createNew: true });
    // The mode passed to open() is filtered by the umask; set it explicitly.
    await Deno.chmod(temp, mode);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {}); // best effort: the original error is what matters
    throw new Error(`Cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads a file, or returns `null` when it does not exist (any other failure throws). */
export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new Error(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Loads a PEM private key and makes sure only its owner can read it: a looser mode is logged as a
 * warning and tightened to 0600. Returns `null` when the file does not exist.
 */
export async function readPrivateKey(path: string): Promise<KeyObject | null> {
  const pem = await readTextIfExists(path);
  if (pem === null) return null;
  await ensureOwnerOnly(path);
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new Error(`Cannot parse the private key in ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Tightens a key file to 0600 when group or others can access it (not on Windows, which has no modes). */
export async function ensureOwnerOnly(path: string): Promise<void> {
  const { mode } = await Deno.stat(path);
  if (mode === null || (mode & 0o077) === 0) return;
  const was = `0${(mode & 0o777).toString(8)}`;
  log.warn("tls.key_mode_fixed", { path, was, now: "0600" });
  try {
    await Deno.chmod(path, 0o600);
  } catch (error) {
    throw new Error(`Cannot restrict ${path} (mode ${was}) to 0600: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Creates a directory (and its parents) readable only by its owner, if it does not exist. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
}
