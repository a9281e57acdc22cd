/**
 * Export headers: the plain ones from `otel.headers` plus the secret ones from `otel.headersFile`, a file a
 * deployment mounts (`Name: value` per line, `#` comments), held to the same rule as the other secret files
 * (`config/secret_files.ts`): it must exist and must not be readable by group or others.
 * @module
 */
import { checkSecretFile } from "../../config/secret_files.ts";
import type { OtelConfig } from "../../config/schema.ts";

/** Parses `Name: value` lines; throws on a line that is neither that, blank, nor a `#` comment. */
export function parseHeaderLines(text: string, source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim() : "";
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name)) {
      throw new Error(`${source} line ${i + 1} is not "Name: value"`);
    }
    out[name.toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}

/** The headers of every export request; throws when `headersFile` is missing, unsafe or malformed. */
export async function exportHeaders(
  config: Pick<OtelConfig, "headers" | "headersFile">,
): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = value;
  const path = config.headersFile;
  if (!path) return headers;
  await checkSecretFile("otel.headersFile", path, { key: true });
  const text = await Deno.readTextFile(path);
  return { ...headers, ...parseHeaderLines(text, `otel.headersFile ${path}`) };
}
