import assert from "node:assert/strict";
import { authenticate } from "./proxy_auth.ts";

const developers = [{ name: "alice", team: "alpha", token: "alice-token-123" }, {
  name: "tokenless",
  team: null,
}];
const basic = (user: string, pass: string) => `Basic ${btoa(`${user}:${pass}`)}`;

Deno.test("valid Basic credentials identify the developer and team", () => {
  assert.deepEqual(
    authenticate(basic("alice", "alice-token-123"), "127.0.0.1:5", { developers, required: true }),
    {
      ok: true,
      identity: { developer: "alice", team: "alpha", address: "127.0.0.1:5", via: "proxy-auth" },
    },
  );
});

Deno.test("wrong, unknown, tokenless and malformed credentials fail; none fails only when required", () => {
  const options = { developers, required: false };
  assert.equal(authenticate(basic("alice", "wrong-token-123"), "a", options).ok, false);
  assert.equal(authenticate(basic("bob", "alice-token-123"), "a", options).ok, false);
  assert.equal(authenticate(basic("tokenless", ""), "a", options).ok, false);
  assert.equal(authenticate("Bearer xyz", "a", options).ok, false);
  assert.equal(authenticate(`Basic ${btoa("no-colon")}`, "a", options).ok, false);
  assert.deepEqual(authenticate(undefined, "a", options), {
    ok: true,
    identity: { developer: null, team: null, address: "a", via: "address" },
  });
  assert.equal(authenticate(undefined, "a", { developers, required: true }).ok, false);
});
