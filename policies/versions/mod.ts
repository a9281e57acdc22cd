/**
 * Policy chain versions: the store interface, and the publish/rollback/diff API the UI and CLI call.
 * @module
 */
export type { NewPolicyVersion, PolicyVersion, PolicyVersionStore, VersionAction } from "./store.ts";
export {
  diffChains,
  type EntryChange,
  publishChain,
  type PublishDeps,
  type PublishRequest,
  rollbackChain,
  writePoliciesToConfigFile,
} from "./versions.ts";
export {
  type RecordedExchange,
  simulateChain,
  type SimulatedDecision,
  type SimulateOptions,
  type SimulationReport,
} from "./simulate.ts";
