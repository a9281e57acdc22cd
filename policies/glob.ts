/**
 * Case-insensitive `*` wildcard patterns (`claude-opus-*`), compiled once when a policy is created.
 * @module
 */

/** Compiles a list of patterns into one predicate; an empty list matches nothing. */
export function compileGlobs(patterns: readonly string[]): (value: string | null | undefined) => boolean {
  if (patterns.length === 0) return () => false;
  const source = patterns
    .map((pattern) => pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*"))
    .join("|");
  const regex = new RegExp(`^(?:${source})$`, "i");
  return (value) => value !== null && value !== undefined && regex.test(value);
}
