import assert from "node:assert/strict";
import { roleFromClaims, ssoUserName } from "./sso_roles.ts";

const mapping = { groupsClaim: "groups", adminGroups: ["platform"], viewerGroups: ["finops", "eng"] };

Deno.test("the groups claim decides the role: admin first, then viewer, else nobody", () => {
  assert.equal(roleFromClaims({ groups: ["eng", "platform"] }, mapping), "admin");
  assert.equal(roleFromClaims({ groups: ["finops"] }, mapping), "viewer");
  assert.equal(roleFromClaims({ groups: "eng" }, mapping), "viewer", "a single group as a string");
  assert.equal(roleFromClaims({ groups: ["staff"] }, mapping), null);
  assert.equal(roleFromClaims({}, mapping), null);
  assert.equal(roleFromClaims({ groups: [{ name: "platform" }] }, mapping), null, "no string, no group");
  assert.equal(roleFromClaims({ roles: ["platform"] }, { ...mapping, groupsClaim: "roles" }), "admin");
  assert.equal(roleFromClaims({ groups: ["platform"] }, { ...mapping, groupsClaim: "roles" }), null);
});

Deno.test("a single sign-on user is named sso: and their preferred name, email or subject", () => {
  assert.equal(ssoUserName({ sub: "x1", preferred_username: "ada", email: "ada@example.com" }), "sso:ada");
  assert.equal(ssoUserName({ sub: "x1", email: "ada@example.com" }), "sso:ada@example.com");
  assert.equal(ssoUserName({ sub: "x1" }), "sso:x1");
  assert.throws(() => ssoUserName({}), /The ID token names nobody: it has no sub claim/);
});
