/**
 * Long text kept deflated in the database: tool results (a file an agent read, a command's output) are the
 * largest thing a session stores in rows, and code and logs deflate to a third or less. Such a row keeps an
 * empty `content` and the deflated UTF-8 in `content_deflated` (BLOB / BYTEA, no base64 overhead); short
 * text stays plain, since deflate saves nothing on it. Every reader goes through `rowText`, so what a turn's
 * hash covers, what `verify` recomputes and what the UI shows are the same text either way.
 * @example
 * const row = { content: "", content_deflated: deflatedText(long) };
 * rowText(row.content, row.content_deflated) === long
 * @module
 */
import { deflateSync, inflateSync } from "fflate";

/** What `rowText` gives for deflated bytes that do not inflate to UTF-8 (stored data was damaged). */
export const UNREADABLE = "[recondo: stored text is damaged and cannot be inflated]";

/** Text shorter than this (in UTF-16 units, about bytes for code) stays plain. */
export const DEFLATE_FROM_CHARS = 1024;

/** The columns to store for `text`: plain when short or when deflating would not save a quarter. */
export function packText(text: string): { plain: string; deflated: Uint8Array | null } {
  if (text.length < DEFLATE_FROM_CHARS) return { plain: text, deflated: null };
  const bytes = new TextEncoder().encode(text);
  const deflated = deflateSync(bytes, { level: 6 });
  return deflated.length * 4 > bytes.length * 3 ? { plain: text, deflated: null } : { plain: "", deflated };
}

/**
 * The text of a row: the deflated column when set (a `Uint8Array` from SQLite, a `Buffer` from pg), else
 * plain. Damaged deflated bytes give a marker rather than an exception, so a page still renders and `verify`
 * reports the turn whose hash no longer matches instead of stopping.
 */
export function rowText(plain: unknown, deflated: unknown): string {
  if (deflated instanceof Uint8Array && deflated.length) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(inflateSync(deflated));
    } catch (error) {
      return `${UNREADABLE} (${(error as Error).message})`;
    }
  }
  return plain === null || plain === undefined ? "" : String(plain);
}

/** `tool_results` rows as read, with `content` always the text (and `content_deflated` gone). */
export function withToolResultText<T extends Record<string, unknown>>(rows: T[]): T[] {
  return rows.map((r) => {
    const { content_deflated: deflated, ...rest } = r;
    return { ...rest, content: rowText(r.content, deflated) } as unknown as T;
  });
}
