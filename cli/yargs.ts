/**
 * yargs ships no types; they come from DefinitelyTyped. Every CLI module imports yargs through here so
 * the types are attached in one place.
 * @module
 */
// @ts-types="npm:@types/yargs@17.0.35"
import yargs from "yargs";
// @ts-types="npm:@types/yargs@17.0.35"
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";

export default yargs;
export type { ArgumentsCamelCase, Argv, CommandModule };
