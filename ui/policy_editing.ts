/**
 * Chain edits from the UI go through the policy versions API (`policies/versions/`): each save is
 * validated by building the chain, recorded as a new version (author, note), written into the config
 * file and applied by a gateway reload. The first save records the running chain as an `import` version
 * first, so the chain as it was before any UI edit can be rolled back to. Every accepted change is also in
 * the UI audit log with its before and after.
 * @module
 */
import { dirname } from "node:path";
import { z } from "zod";
import { policyEntrySchema } from "../config/schema.ts";
import { buildChain } from "../policies/build_chain.ts";
import {
  type PolicyVersion,
  publishChain,
  type PublishDeps,
  rollbackChain,
  writePoliciesToConfigFile,
} from "../policies/versions/mod.ts";
import type { PolicyServices } from "../policies/types.ts";
import type { Db } from "../storage/db/db.ts";
import { createPolicyServices, createSqlPolicyVersionStore } from "../storage/ledger/mod.ts";
import type { ChangeResult, UiServices } from "../routes/_lib/context.ts";

/** What the editor needs. */
export interface PolicyEditingOptions {
  db: Db;
  configPath: string;
  current(): unknown[];
  reload(): Promise<ChangeResult>;
  audit: UiServices["audit"];
  services?: PolicyServices;
  now?: () => number;
}

/** Save, roll back and list chain versions. */
export interface PolicyEditing {
  save(entries: unknown[], actor: string, note: string): Promise<ChangeResult>;
  rollback(version: number, actor: string): Promise<ChangeResult>;
  history(limit?: number): Promise<PolicyVersion[]>;
}

/** Builds the editor; edits are serialised so two admins cannot interleave a validate and a write. */
export function createPolicyEditing(options: PolicyEditingOptions): PolicyEditing {
  const store = createSqlPolicyVersionStore(options.db);
  const services = options.services ?? createPolicyServices(options.db);
  const now = options.now ?? Date.now;
  const deps: PublishDeps = {
    async validate(entries) {
      const parsed = z.array(policyEntrySchema).parse(entries);
      await buildChain(parsed, {
        baseDir: dirname(options.configPath),
        services,
        reloadToken: String(now()),
      });
    },
    async apply(entries) {
      await writePoliciesToConfigFile(options.configPath, entries);
      const result = await options.reload();
      if (!result.ok) throw new Error(result.reason);
    },
    now,
  };
  let tail: Promise<unknown> = Promise.resolve();
  const serial = (fn: () => Promise<ChangeResult>): Promise<ChangeResult> => {
    const result = tail.then(fn, fn);
    tail = result.catch(() => {});
    return result;
  };
  async function importRunning(): Promise<void> {
    if (await store.latest()) return;
    await store.append({
      entries: options.current(),
      author: "recondo",
      action: "import",
      note: "the chain running before the first UI edit",
      basedOn: null,
      createdAt: now(),
    });
  }
  async function attempt(
    action: string,
    actor: string,
    fn: () => Promise<PolicyVersion>,
  ): Promise<ChangeResult> {
    const before = options.current();
    try {
      await importRunning();
      const version = await fn();
      await options.audit({
        actor,
        action: `${action} (version ${version.version})`,
        target: "policies",
        before,
        after: version.entries,
      });
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
  }
  return {
    save: (entries, actor, note) =>
      serial(() => attempt(note, actor, () => publishChain(store, { entries, author: actor, note }, deps))),
    rollback: (version, actor) =>
      serial(() =>
        attempt(
          `roll back to version ${version}`,
          actor,
          () => rollbackChain(store, version, { author: actor }, deps),
        )
      ),
    history: (limit = 20) => store.list({ limit }),
  };
}
