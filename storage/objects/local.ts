/**
 * The default object store: a folder under the data directory, `objects/ab/cd/<sha256>.gz`. Two levels
 * of hash-prefix shards keep directories small at millions of objects. Writes are atomic (temp file in
 * the same directory, fsync, rename, fsync of the directory) so a crash never leaves a half object under
 * a valid name.
 * @module
 */
import { join } from "node:path";
import { assertSha256Hex, type ObjectMeta, type ObjectStore } from "./store.ts";

/** Opens (creating if needed) a local object store rooted at `root`. */
export async function openLocalObjectStore(root: string): Promise<ObjectStore> {
  await Deno.mkdir(root, { recursive: true });
  return new LocalObjectStore(root);
}

class LocalObjectStore implements ObjectStore {
  readonly kind = "local" as const;
  #knownDirs = new Set<string>();

  constructor(readonly root: string) {}

  #dir(sha: string): string {
    return join(this.root, sha.slice(0, 2), sha.slice(2, 4));
  }

  #path(sha: string): string {
    assertSha256Hex(sha);
    return join(this.#dir(sha), `${sha}.gz`);
  }

  async put(sha: string, gzipped: Uint8Array, _meta: ObjectMeta): Promise<void> {
    const target = this.#path(sha);
    if (await exists(target)) return;
    const dir = this.#dir(sha);
    if (!this.#knownDirs.has(dir)) {
      await Deno.mkdir(dir, { recursive: true });
      this.#knownDirs.add(dir);
    }
    const temp = join(dir, `.${sha}.${crypto.randomUUID()}.tmp`);
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o640 });
    try {
      let written = 0;
      while (written < gzipped.length) written += await file.write(gzipped.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    try {
      await Deno.rename(temp, target);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw new Error(`Cannot store object ${sha} at ${target}`, { cause: error });
    }
    await syncDir(dir);
  }

  async get(sha: string): Promise<Uint8Array | null> {
    try {
      return await Deno.readFile(this.#path(sha));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }

  async getRange(sha: string, start: number, end: number): Promise<Uint8Array | null> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.#path(sha), { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
    try {
      await file.seek(start, Deno.SeekMode.Start);
      const out = new Uint8Array(Math.max(0, end - start));
      let read = 0;
      while (read < out.length) {
        const n = await file.read(out.subarray(read));
        if (n === null) break;
        read += n;
      }
      return out.subarray(0, read);
    } finally {
      file.close();
    }
  }

  has(sha: string): Promise<boolean> {
    return exists(this.#path(sha));
  }

  async delete(sha: string): Promise<void> {
    try {
      await Deno.remove(this.#path(sha));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }

  /** A local folder has no retention lock; the gateway's own rules are the only guard. */
  retainedUntil(sha: string): Promise<Date | null> {
    assertSha256Hex(sha);
    return Promise.resolve(null);
  }

  /** A local folder has no legal hold either. */
  legalHold(sha: string): Promise<boolean> {
    assertSha256Hex(sha);
    return Promise.resolve(false);
  }

  async *list(): AsyncIterable<string> {
    for await (const a of readDirSafe(this.root)) {
      if (!a.isDirectory || a.name.length !== 2) continue;
      for await (const b of readDirSafe(join(this.root, a.name))) {
        if (!b.isDirectory) continue;
        for await (const f of readDirSafe(join(this.root, a.name, b.name))) {
          if (f.isFile && /^[0-9a-f]{64}\.gz$/.test(f.name)) yield f.name.slice(0, 64);
        }
      }
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function* readDirSafe(path: string): AsyncIterable<Deno.DirEntry> {
  try {
    for await (const entry of Deno.readDir(path)) yield entry;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** fsync of a directory makes the rename itself durable (POSIX leaves it in the page cache otherwise). */
export async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}
