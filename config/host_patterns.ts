/**
 * Intercept entries are host names (`api.anthropic.com`) or wildcard patterns in which `*` stands for one or
 * more DNS label characters (`[a-z0-9-]+`, never a dot): `bedrock-runtime.*.amazonaws.com`,
 * `*-aiplatform.googleapis.com`, `*.openai.azure.com`. This module validates them, matches CONNECT targets
 * against them, and turns them into the DNS subtrees the CA's X.509 name constraints permit.
 * @module
 */
import { AWS_FIPS_REGIONS, AWS_REGIONS, GCP_REGIONS } from "./provider_regions.ts";

const LABEL_OR_PATTERN = /^[a-z0-9*-]{1,63}$/;

/**
 * Patterns whose wildcard sits inside a name, so no DNS suffix covers just them: the CA permits each of
 * their known concrete names instead (see provider_regions.ts for why).
 */
const ENUMERATED: Record<string, readonly string[]> = {
  "bedrock-runtime.*.amazonaws.com": AWS_REGIONS,
  "bedrock-runtime-fips.*.amazonaws.com": AWS_FIPS_REGIONS,
  "*-aiplatform.googleapis.com": GCP_REGIONS,
};

/** Whether an intercept entry is a wildcard pattern rather than one host. */
export function isHostPattern(entry: string): boolean {
  return entry.includes("*");
}

/**
 * Why `entry` is not a valid intercept entry, or null when it is. The labels after the last wildcard must
 * name a domain of at least two labels, so the CA is never asked to permit a whole top-level domain.
 * @example hostPatternProblem("*.com") // "… needs at least two labels after its last wildcard …"
 */
export function hostPatternProblem(entry: string): string | null {
  const labels = entry.toLowerCase().replace(/\.$/, "").split(".");
  if (!labels.every((label) => LABEL_OR_PATTERN.test(label))) {
    return `"${entry}" must be a host name such as api.example.com, or a pattern such as *.example.com`;
  }
  const lastWild = labels.findLastIndex((label) => label.includes("*"));
  if (lastWild >= 0 && labels.length - lastWild - 1 < 2) {
    return `"${entry}" needs at least two labels after its last wildcard (e.g. *.example.com), because the ` +
      `CA's name constraints would otherwise permit a whole top-level domain`;
  }
  if (lastWild < 0 && labels.length < 2) {
    return `"${entry}" must have at least two labels, e.g. api.example.com`;
  }
  return null;
}

/**
 * A predicate telling whether a host (lower-cased, without port) is one of `entries`, exact or by pattern.
 * Compiled once per intercept list: patterns become one anchored regex.
 * @example compileHostMatcher(["bedrock-runtime.*.amazonaws.com"])("bedrock-runtime.us-east-1.amazonaws.com") // true
 */
export function compileHostMatcher(entries: readonly string[]): (host: string) => boolean {
  const exact = new Set<string>();
  const patterns: string[] = [];
  for (const raw of entries) {
    const entry = raw.toLowerCase().replace(/\.$/, "");
    if (isHostPattern(entry)) patterns.push(patternSource(entry));
    else exact.add(entry);
  }
  const regex = patterns.length > 0 ? new RegExp(`^(?:${patterns.join("|")})$`) : null;
  return (host) => {
    const name = host.toLowerCase().replace(/\.$/, "");
    return exact.has(name) || (regex !== null && regex.test(name));
  };
}

/**
 * The DNS names a CA must permit (as name constraint subtrees) to cover `entry`: the host itself; for a
 * pattern whose wildcard is a whole leading label (`*.openai.azure.com`), the suffix after it, which is
 * exactly as wide as the pattern (plus the suffix itself and deeper names); for the enumerated default
 * patterns, their known concrete hosts; for any other pattern, the suffix after its last wildcard label,
 * the narrowest subtree X.509 allows (list the concrete hosts instead if that is too wide).
 * @example permittedNamesFor("*.openai.azure.com") // ["openai.azure.com"]
 */
export function permittedNamesFor(entry: string): string[] {
  const name = entry.toLowerCase().replace(/\.$/, "");
  if (!isHostPattern(name)) return [name];
  const known = ENUMERATED[name];
  if (known) return known.map((value) => name.replace("*", value));
  const labels = name.split(".");
  const lastWild = labels.findLastIndex((label) => label.includes("*"));
  return [labels.slice(lastWild + 1).join(".")];
}

/** {@link permittedNamesFor} over a whole intercept list, without duplicates. */
export function permittedNames(entries: readonly string[]): string[] {
  return [...new Set(entries.flatMap(permittedNamesFor))];
}

function patternSource(pattern: string): string {
  return pattern.split("*").map((part) => part.replaceAll(".", "\\.")).join("[a-z0-9-]+");
}
