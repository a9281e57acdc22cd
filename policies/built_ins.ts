/**
 * The policy modules that ship with Recondo, by the name used in `recondo.json`.
 * @module
 */
import { blockList } from "./block_list.ts";
import { redactSecrets } from "./redact_secrets/redact_secrets.ts";
import { route } from "./route.ts";
import { spendCap } from "./spend_cap/spend_cap.ts";
import { throttle } from "./throttle/throttle.ts";
import type { PolicyModule } from "./types.ts";

// deno-lint-ignore no-explicit-any
export const BUILT_IN_POLICIES: ReadonlyMap<string, PolicyModule<any>> = new Map<string, PolicyModule<any>>([
  [blockList.name, blockList],
  [spendCap.name, spendCap],
  [throttle.name, throttle],
  [route.name, route],
  [redactSecrets.name, redactSecrets],
]);
