/**
 * The database as the control plane (PostgreSQL, many gateways): the chain, its module sources and the
 * developers live in the control tables (`storage/control/`). A gateway loads a snapshot, materialises
 * the published modules into its data dir, and hears of changes by `LISTEN recondo_control` plus a
 * periodic revision check, so a notification lost while its connection was down is caught within
 * `pollMs`. `recondo policies publish`, the UI and the CLI write through the same object.
 * @module
 */
import { z } from "zod";
import type { ControlSnapshot, ControlSource } from "../config/control.ts";
import { type DeveloperConfig, policyEntrySchema } from "../config/schema.ts";
import { log } from "../core/log.ts";
import { hashProxyToken, withTokenHashed } from "../core/proxy_token.ts";
import { buildChain } from "../policies/build_chain.ts";
import type { PolicyServices } from "../policies/types.ts";
import type { PolicyVersion } from "../policies/versions/store.ts";
import {
  CONTROL_CHANNEL,
  createControlStore,
  type DeveloperRecord,
} from "../storage/control/control_store.ts";
import type { Db } from "../storage/db/db.ts";
import { listenPostgres } from "../storage/db/postgres_listen.ts";
import { createSqlPolicyVersionStore } from "../storage/ledger/sql_policy_versions.ts";
import { collectModules, materializeModules, type ModuleBundle } from "./module_bundle.ts";

/** Options of {@link createDbControl}. */
export interface DbControlOptions {
  db: Db;
  /** Connection string for the LISTEN connection (PostgreSQL); without it only polling is used. */
  listenUrl?: string;
  /** Where published modules are written (`<data dir>/modules`). */
  cacheDir: string;
  /** The fleet's HMAC key: proxy tokens are stored as keyed hashes under it. */
  hmacKey: Uint8Array;
  /** The periodic revision check (default 5 s). */
  pollMs?: number;
  /** What policies get when a candidate chain is built for validation. */
  services?: PolicyServices;
  now?: () => number;
}

/** Writing to the control plane: every call is one new revision that all gateways apply. */
export interface ControlPlane extends ControlSource {
  /**
   * Validates and publishes a chain. Module files are read under `baseDir` (a config file's folder);
   * without it, the modules of the current version are reused (a UI edit of options).
   */
  publishPolicies(
    entries: unknown[],
    options: { author: string; note?: string; baseDir?: string },
  ): Promise<PolicyVersion>;
  /** Makes version `to` current again, as a new version with its modules. */
  rollbackPolicies(to: number, options: { author: string; note?: string }): Promise<PolicyVersion>;
  history(limit?: number): Promise<PolicyVersion[]>;
  /** Replaces the developers; a `token` given in clear is stored as its keyed hash only. */
  saveDevelopers(developers: readonly DeveloperConfig[]): Promise<void>;
  /** Refuses (throws) when this gateway's HMAC key is not the one the fleet's first gateway used. */
  checkFleetKey(): Promise<void>;
  /** First start on an empty control plane: imports the config file's policies and developers as version 1. */
  importFromConfig(
    config: { policies: unknown[]; developers: readonly DeveloperConfig[] },
    baseDir: string,
  ): Promise<"imported" | "ignored" | "nothing">;
}

const entriesSchema = z.array(policyEntrySchema);

/** The database control plane over a migrated `db`. */
export function createDbControl(options: DbControlOptions): ControlPlane {
  const store = createControlStore(options.db);
  const versions = createSqlPolicyVersionStore(options.db);
  const now = options.now ?? Date.now;
  let seen = -1;

  const toRecord = (d: DeveloperConfig): DeveloperRecord => {
    const stored = withTokenHashed(d, options.hmacKey);
    return {
      name: stored.name,
      team: stored.team ?? null,
      tokenHash: stored.tokenHash ?? null,
      apiKeyHashes: [...(stored.apiKeyHashes ?? [])],
    };
  };

  /** The folder a version's modules are in, written from the database when needed. */
  const modulesDir = async (modules: Record<string, string> | null | undefined): Promise<string> => {
    const manifest = modules ?? {};
    const sources = await store.moduleSources([...new Set(Object.values(manifest))]);
    return await materializeModules(manifest, sources, options.cacheDir);
  };

  const validate = async (entries: unknown[], baseDir: string) => {
    const parsed = entriesSchema.parse(entries);
    await buildChain(parsed, { baseDir, services: options.services, reloadToken: String(now()) });
    return parsed;
  };

  /** Validates what gateways will run (the chain built from the materialised bundle); returns its manifest. */
  const validateBundle = async (entries: unknown[], bundle: ModuleBundle, baseDir: string) => {
    const hasModules = Object.keys(bundle.manifest).length > 0;
    const dir = hasModules
      ? await materializeModules(bundle.manifest, bundle.sources, options.cacheDir)
      : baseDir;
    await validate(entries, dir);
    return hasModules ? bundle.manifest : null;
  };

  const plane: ControlPlane = {
    kind: "database",
    async load(): Promise<ControlSnapshot> {
      const stored = await store.snapshot();
      const baseDir = await modulesDir(stored.policy?.modules);
      seen = stored.revision;
      return {
        version: stored.policy?.version ?? null,
        policies: entriesSchema.parse(stored.policy?.entries ?? []),
        developers: stored.developers.map((d) => ({
          name: d.name,
          team: d.team,
          ...(d.tokenHash ? { tokenHash: d.tokenHash } : {}),
          apiKeyHashes: d.apiKeyHashes,
        })),
        baseDir,
      };
    },
    watch(changed) {
      let closed = false;
      const check = async () => {
        try {
          const revision = await store.revision();
          if (!closed && revision !== seen) changed();
        } catch (error) {
          log.warn("control.poll_failed", { reason: (error as Error).message });
        }
      };
      const timer = setInterval(check, options.pollMs ?? 5_000);
      const listening = options.listenUrl
        ? listenPostgres(options.listenUrl, CONTROL_CHANNEL, {
          onNotify: (payload) => {
            if (Number(payload) !== seen) changed();
          },
          onReconnect: () => void check(),
        }).catch((error) => {
          log.warn("control.listen_unavailable", { reason: (error as Error).message, fallback: "polling" });
          return null;
        })
        : Promise.resolve(null);
      return {
        close() {
          closed = true;
          clearInterval(timer);
          void listening.then((l) => l?.close());
        },
      };
    },
    async publishPolicies(entries, request) {
      if (!request.author.trim()) throw new TypeError("Cannot publish a policy chain without an author");
      const latest = await versions.latest();
      const baseDir = request.baseDir ?? await modulesDir(latest?.modules);
      const bundle = await collectModules(entriesSchema.parse(entries), baseDir);
      const manifest = await validateBundle(entries, bundle, baseDir);
      return await store.publish({
        entries,
        author: request.author,
        action: "edit",
        note: request.note ?? null,
        basedOn: latest?.version ?? null,
        createdAt: now(),
        modules: manifest,
        sources: bundle.sources,
      });
    },
    async rollbackPolicies(to, request) {
      const target = await versions.get(to);
      if (!target) throw new RangeError(`Cannot roll back to policy chain version ${to}: no such version`);
      const dir = await modulesDir(target.modules);
      await validate(target.entries, dir);
      return await store.publish({
        entries: target.entries,
        author: request.author,
        action: "rollback",
        note: request.note ?? `rollback to version ${to}`,
        basedOn: to,
        createdAt: now(),
        modules: target.modules ?? null,
        sources: new Map(),
      });
    },
    history: (limit = 20) => versions.list({ limit }),
    async checkFleetKey() {
      const outcome = await store.checkFleetKey(hashProxyToken(options.hmacKey, "recondo-fleet-key-check"));
      if (outcome === "mismatch") {
        throw new Error(
          "Refusing to start: this gateway's HMAC key is not the fleet's (the database was first used with " +
            "another key), so proxy tokens and API-key attribution would not match. Give every gateway the " +
            "same key file with RECONDO_HMAC_KEY_FILE.",
        );
      }
    },
    saveDevelopers: (developers) => store.saveDevelopers(developers.map(toRecord), now()),
    async importFromConfig(config, baseDir) {
      const hasContent = config.policies.length > 0 || config.developers.length > 0;
      let bundle: ModuleBundle | null = null;
      let manifest: Record<string, string> | null = null;
      if (config.policies.length) {
        bundle = await collectModules(entriesSchema.parse(config.policies), baseDir);
        manifest = await validateBundle(config.policies, bundle, baseDir);
      }
      const imported = await store.importOnce(async (writer) => {
        const present = await writer.contents();
        if (bundle && present.versions === 0) {
          await writer.publish({
            entries: config.policies,
            author: "recondo",
            action: "import",
            note: "imported from the config file on the first start",
            basedOn: null,
            createdAt: now(),
            modules: manifest,
            sources: bundle.sources,
          });
        }
        if (config.developers.length && present.developers === 0) {
          await writer.saveDevelopers(config.developers.map(toRecord), now());
        }
      }, now());
      if (imported && hasContent) return "imported";
      return hasContent ? "ignored" : "nothing";
    },
  };
  return plane;
}
