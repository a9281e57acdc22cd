/**
 * Single sign-on roles: the groups claim of the ID token decides. A member of any admin group is `admin`,
 * else of any viewer group `viewer`, else nobody (refused: belonging to the company is not enough).
 * @module
 */
import type { UiRole } from "../storage/ui/users.ts";

/** Which claim lists the groups and which groups map to which role. */
export interface GroupMapping {
  groupsClaim: string;
  adminGroups: readonly string[];
  viewerGroups: readonly string[];
}

/**
 * The role `claims` earn, or `null`. The claim may be an array of strings (Keycloak, Entra ID, Okta) or a
 * single string; anything else counts as no group.
 * @example roleFromClaims({ groups: ["platform"] }, { groupsClaim: "groups", adminGroups: ["platform"], viewerGroups: [] }) // "admin"
 */
export function roleFromClaims(claims: Record<string, unknown>, mapping: GroupMapping): UiRole | null {
  const groups = groupsOf(claims[mapping.groupsClaim]);
  if (mapping.adminGroups.some((g) => groups.has(g))) return "admin";
  if (mapping.viewerGroups.some((g) => groups.has(g))) return "viewer";
  return null;
}

function groupsOf(value: unknown): Set<string> {
  if (typeof value === "string") return new Set([value]);
  if (Array.isArray(value)) return new Set(value.filter((v): v is string => typeof v === "string"));
  return new Set();
}

/**
 * The session name of a single sign-on user: `sso:` and the first of `preferred_username`, `email`, `sub`.
 * Local account names cannot contain `:` (`recondo user add`), so the two kinds never collide.
 */
export function ssoUserName(claims: Record<string, unknown>): string {
  for (const key of ["preferred_username", "email", "sub"]) {
    const value = claims[key];
    if (typeof value === "string" && value) return `${SSO_PREFIX}${value.slice(0, 200)}`;
  }
  throw new Error("The ID token names nobody: it has no sub claim");
}

/** What every single sign-on session's user name starts with. */
export const SSO_PREFIX = "sso:";
