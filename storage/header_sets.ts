/**
 * Exchange headers as stored: every header in the row's JSON (`base` null, as before), or a stored header
 * set (`header_sets`, named by the row's `*_headers_base`) with the row's JSON holding only the values that
 * differ from it. A client repeats its headers on every request but for a request id or two, so a long
 * session stores its ~1 KB of headers once and ~100 bytes a request. `mergeHeaders` gives back the headers
 * exactly as captured, in their order; `deleteUnusedHeaderSets` is retention's side.
 * @example
 * mergeHeaders('{"x-request-id":"b"}', '{"accept":"*\/*","x-request-id":"a"}') // { accept: "*\/*", "x-request-id": "b" }
 * @module
 */
import type { Queryable } from "./db/db.ts";

/** The headers of a row: its `own` JSON, over the JSON of its base set when it has one. */
export function mergeHeaders(own: unknown, base: unknown): Record<string, string> {
  const values = JSON.parse(String(own)) as Record<string, string>;
  if (base === null || base === undefined) return values;
  const out = JSON.parse(String(base)) as Record<string, string>;
  for (const [name, value] of Object.entries(values)) {
    if (!(name in out)) throw new RangeError(`Stored headers name "${name}", which their base set lacks`);
    out[name] = value;
  }
  return out;
}

/**
 * The values of `headers` that differ from `base`, or `null` when `base` does not have the same names in
 * the same order (a delta could not give the order back).
 */
export function headerDelta(
  headers: Record<string, string>,
  base: Record<string, string>,
): Record<string, string> | null {
  const names = Object.keys(headers);
  const baseNames = Object.keys(base);
  if (names.length !== baseNames.length || names.some((n, i) => n !== baseNames[i])) return null;
  const out: Record<string, string> = {};
  for (const n of names) if (headers[n] !== base[n]) out[n] = headers[n];
  return out;
}

/** Removes the header sets among `ids` that no exchange names any more (after retention deleted some). */
export async function deleteUnusedHeaderSets(tx: Queryable, ids: readonly unknown[]): Promise<void> {
  for (const id of new Set(ids.filter((i) => i !== null && i !== undefined).map(Number))) {
    await tx.run(
      `DELETE FROM header_sets WHERE id = $1
         AND NOT EXISTS (SELECT 1 FROM exchanges WHERE request_headers_base = $1)
         AND NOT EXISTS (SELECT 1 FROM exchanges WHERE response_headers_base = $1)`,
      [id],
    );
  }
}
