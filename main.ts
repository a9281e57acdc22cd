/**
 * Entry point: `deno task serve` runs `main.ts serve`, `deno task recondo …` runs any CLI command.
 * @module
 */
import { runCli } from "./cli/main.ts";

if (import.meta.main) {
  await runCli(Deno.args);
}
