/**
 * The run-time editing API of the policy chain, for the UI and the CLI: publish a new chain (validated
 * first, so a broken chain is never recorded as current), list the history, see what changed, and roll
 * back. Publishing writes the `policies` array into `recondo.json`; the gateway's config watcher then hot
 * reloads it (and keeps the old chain if the reload fails), so the file stays the one source of truth.
 *
 * @example
 * const v = await publishChain(store, { entries, author: "ana@corp", note: "cap contractors" }, deps);
 * await rollbackChain(store, v.version - 1, { author: "ana@corp" }, deps);
 * @module
 */
import type { NewPolicyVersion, PolicyVersion, PolicyVersionStore } from "./store.ts";

/** What publishing needs from the caller (wired by `cli/` or `routes/`). */
export interface PublishDeps {
  /** Throws an `Error` naming the entry and problem when the chain cannot be built (`buildChain`). */
  validate(entries: unknown[]): Promise<void>;
  /** Makes the chain current, e.g. writes it into `recondo.json` for hot reload. */
  apply(entries: unknown[]): Promise<void>;
  now?: () => number;
}

export interface PublishRequest {
  entries: unknown[];
  author: string;
  note?: string;
}

/** Validates, records and applies a new chain; returns the stored version. */
export async function publishChain(
  store: PolicyVersionStore,
  request: PublishRequest,
  deps: PublishDeps,
): Promise<PolicyVersion> {
  if (!request.author.trim()) throw new TypeError("Cannot publish a policy chain without an author");
  await deps.validate(request.entries);
  const previous = await store.latest();
  return await record(store, {
    entries: request.entries,
    author: request.author,
    action: "edit",
    note: request.note ?? null,
    basedOn: previous?.version ?? null,
    createdAt: (deps.now ?? Date.now)(),
  }, deps);
}

/** Makes an older version current again, as a new version (history is never rewritten). */
export async function rollbackChain(
  store: PolicyVersionStore,
  to: number,
  request: { author: string; note?: string },
  deps: PublishDeps,
): Promise<PolicyVersion> {
  const target = await store.get(to);
  if (!target) throw new RangeError(`Cannot roll back to policy chain version ${to}: no such version`);
  // Re-validated: a module file or a built-in may have changed since that version was current.
  await deps.validate(target.entries);
  return await record(store, {
    entries: target.entries,
    author: request.author,
    action: "rollback",
    note: request.note ?? `rollback to version ${to}`,
    basedOn: to,
    createdAt: (deps.now ?? Date.now)(),
  }, deps);
}

async function record(store: PolicyVersionStore, version: NewPolicyVersion, deps: PublishDeps) {
  const stored = await store.append(version);
  await deps.apply(version.entries);
  return stored;
}

/** One line of a chain diff. */
export interface EntryChange {
  change: "added" | "removed" | "changed";
  index: number;
  use: string;
}

/** What differs between two chains, entry by entry (by position), for the history view. */
export function diffChains(before: unknown[], after: unknown[]): EntryChange[] {
  const use = (e: unknown) => String((e as { use?: unknown })?.use ?? "?");
  const out: EntryChange[] = [];
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    if (i >= before.length) out.push({ change: "added", index: i, use: use(after[i]) });
    else if (i >= after.length) out.push({ change: "removed", index: i, use: use(before[i]) });
    else if (JSON.stringify(before[i]) !== JSON.stringify(after[i])) {
      out.push({ change: "changed", index: i, use: use(after[i]) });
    }
  }
  return out;
}

/**
 * Replaces the `policies` array of a JSON config file, keeping everything else, via a temp file and a
 * rename so the watcher never reads half a file.
 */
export async function writePoliciesToConfigFile(path: string, entries: unknown[]): Promise<void> {
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new Error(`Cannot update policies in ${path}: ${(error as Error).message}`, { cause: error });
    }
  }
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify({ ...config, policies: entries }, null, 2) + "\n");
  await Deno.rename(temp, path);
}
