/** Every fuzz target, in the order `deno task fuzz` runs them. @module */
import type { FuzzTarget } from "./engine.ts";
import { FRONT_DOOR_TARGETS } from "./front_door_targets.ts";
import { PARSER_TARGETS } from "./parser_targets.ts";

export const ALL_TARGETS: FuzzTarget[] = [...FRONT_DOOR_TARGETS, ...PARSER_TARGETS];
