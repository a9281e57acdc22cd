/**
 * Substring patterns for SQL `LIKE` / `ILIKE`, shared by the CLI's search and the UI's.
 * @module
 */

/** `%text%` with `%`, `_` and `\` escaped, for a `LIKE … ESCAPE '\'` that matches `text` literally. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
