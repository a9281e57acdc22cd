/**
 * Aligned plain-text tables for the inspector's human output. Numbers align right, text left; colour
 * (bold headers, dim rules) only when stdout is a terminal and `NO_COLOR` is unset (https://no-color.org).
 * @example
 * console.log(renderTable([{ header: "ID", value: (r) => r.id }], rows, { color: useColor() }));
 * @module
 */

/** One column: a header and how to read a cell from a row. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null;
  /** Default: right for numbers, left otherwise. */
  align?: "left" | "right";
  /** Cells longer than this are cut with an ellipsis. */
  max?: number;
}

/** Whether to colour output: a terminal and no `NO_COLOR`. */
export function useColor(env: { get(name: string): string | undefined } = Deno.env): boolean {
  const noColor = env.get("NO_COLOR");
  if (noColor !== undefined && noColor !== "") return false;
  return Deno.stdout.isTerminal();
}

/** Bold when `color`, plain otherwise. */
export function bold(text: string, color: boolean): string {
  return color ? `\x1b[1m${text}\x1b[22m` : text;
}

/** Dim when `color`, plain otherwise. */
export function dim(text: string, color: boolean): string {
  return color ? `\x1b[2m${text}\x1b[22m` : text;
}

function cell(value: string | number | null, max: number | undefined): string {
  let text = value === null ? "-" : String(value);
  text = text.replace(/\s+/g, " ");
  if (max !== undefined && text.length > max) text = `${text.slice(0, max - 1)}…`;
  return text;
}

/** Renders `rows` under `columns`, two spaces between columns, no trailing spaces. */
export function renderTable<T>(
  columns: Column<T>[],
  rows: readonly T[],
  options: { color: boolean },
): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r), c.max)));
  const right = columns.map((c, i) =>
    c.align ? c.align === "right" : rows.length > 0 && rows.every((r) => {
      const v = c.value(r);
      return v === null || typeof v === "number";
    }) && cells.some((row) => row[i] !== "-")
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (parts: string[]) =>
    parts.map((p, i) => right[i] ? p.padStart(widths[i]) : p.padEnd(widths[i])).join("  ").trimEnd();
  const out = [bold(line(columns.map((c) => c.header)), options.color)];
  for (const row of cells) out.push(line(row));
  return out.join("\n");
}

/** `key  value` lines with aligned keys, for one record. */
export function renderFields(
  fields: [string, string | number | null][],
  options: { color: boolean },
): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${dim(k.padEnd(width), options.color)}  ${v === null ? "-" : v}`).join("\n");
}

/** A token count with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** A USD amount, 4 decimals below a dollar. */
export function usd(n: number | null): string | null {
  if (n === null) return null;
  return `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;
}

/** An ISO time shortened to minutes, UTC. */
export function when(iso: string): string {
  return `${iso.slice(0, 16).replace("T", " ")}Z`;
}
