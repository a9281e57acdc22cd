/**
 * CSV as RFC 4180 writes it: CRLF line ends, a field quoted when it holds a comma, a double quote, CR or
 * LF, and a double quote doubled inside quotes. Spreadsheet formula prefixes (`=`, `+`, `-`, `@`) in text
 * fields are kept as they are: names here come from the gateway's own config and captured repo paths.
 * @module
 */

/** One field. `null` is an empty field. */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header line and one line per row, each ended by CRLF. */
export function toCsv(
  header: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
): string {
  return [header, ...rows].map((row) => row.map(csvField).join(",") + "\r\n").join("");
}
