/**
 * What a gateway runs that a fleet shares: the policy chain and the developers. A `ControlSource` hands
 * the gateway its current snapshot and tells it when a new one may exist; the gateway applies every
 * snapshot through one path (build the chain, swap it in, keep the old one on error) whether the source
 * is the config file (one process on SQLite) or the database (PostgreSQL, many gateways).
 * @module
 */
import type { DeveloperConfig, PolicyEntry } from "./schema.ts";

/** One consistent state of the control plane. */
export interface ControlSnapshot {
  /** The policy chain version this is, or `null` when nothing was published (a plain config file). */
  version: number | null;
  policies: PolicyEntry[];
  developers: DeveloperConfig[];
  /** The folder relative `use` paths resolve against (the config's folder, or the materialised modules). */
  baseDir: string;
  /** Files the chain was built from, watched on a single node so an edited module reloads the chain. */
  moduleFiles?: string[];
}

/** Where a gateway's snapshot comes from. */
export interface ControlSource {
  readonly kind: "file" | "database";
  /** The current snapshot; throws when it cannot be read or a published module cannot be fetched. */
  load(): Promise<ControlSnapshot>;
  /** Calls `changed` whenever a newer snapshot may exist; stopped by `close`. */
  watch(changed: () => void): { close(): void };
}
