/**
 * Narrowing helpers for untyped provider JSON: each returns the value when it has the expected shape and a
 * neutral fallback otherwise, so adapters never throw on a field of the wrong type.
 * @module
 */

export type Json = Record<string, unknown>;

/** The value as an object (not an array), or null. */
export function obj(value: unknown): Json | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Json : null;
}

/** The value as an array, or an empty one. */
export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The value as a string, or null. */
export function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** The value as a finite number, or null. */
export function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Tool input sent as an object (Anthropic `input`, Gemini `args`) as the JSON text a streamed call would carry. */
export function argumentsText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return "";
  }
}
