/**
 * Writes measured sections into BENCHMARKS.md, leaving every other section (the hand-written analysis
 * included) where it is, and formats the file with `deno fmt` so `deno fmt --check` stays green.
 * @module
 */
import { join } from "node:path";
import { replaceSection } from "./report.ts";

const FILE = join(new URL("../", import.meta.url).pathname, "BENCHMARKS.md");
const PREAMBLE = "# Benchmarks\n\n`deno task bench` rewrites the measured sections below (bench/run.ts); " +
  '`bench/layers.ts` rewrites "Intercept path by layer"; `deno task soak` rewrites "Soak". Other sections ' +
  "are written by hand.\n";

/** Replaces (or appends) each `heading → markdown` section; returns the file's path. */
export async function writeSections(sections: Record<string, string>): Promise<string> {
  let document = await Deno.readTextFile(FILE).catch(() => PREAMBLE);
  for (const [heading, body] of Object.entries(sections)) document = replaceSection(document, heading, body);
  await Deno.writeTextFile(FILE, document);
  const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", FILE], stderr: "piped" })
    .output();
  if (!fmt.success) throw new Error(`deno fmt ${FILE} failed: ${new TextDecoder().decode(fmt.stderr)}`);
  return FILE;
}
