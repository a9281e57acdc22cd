import assert from "node:assert/strict";
import { createFlowCookies, FLOW_COOKIE, type SsoFlow } from "./sso_flow_cookie.ts";

const flow: SsoFlow = { state: "st", nonce: "no", verifier: "ve", next: "/sessions", expiresAt: 2_000 };

/** A request carrying the cookie a `Set-Cookie` value sets. */
function carrying(setCookie: string, edit: (value: string) => string = (v) => v): Request {
  const value = setCookie.split(";")[0].slice(FLOW_COOKIE.length + 1);
  return new Request("https://ui.example/sso/callback", {
    headers: { cookie: `${FLOW_COOKIE}=${edit(decodeURIComponent(value))}` },
  });
}

Deno.test("the flow cookie reads back what was written, for the callback path only, Lax and short-lived", async () => {
  const cookies = await createFlowCookies(new Uint8Array(32).fill(7));
  const set = await cookies.write(flow);
  assert.match(set, /; Path=\/sso\/callback; HttpOnly; SameSite=Lax; Max-Age=600$/);
  assert.deepEqual(await cookies.read(carrying(set), 1_000), flow);
  assert.equal(await cookies.read(carrying(set), 2_000), null, "expired");
  assert.match(cookies.clear(), /^recondo_sso=; Path=\/sso\/callback; .*Max-Age=0$/);
});

Deno.test("an altered flow cookie, or one signed with another key, is not read", async () => {
  const cookies = await createFlowCookies(new Uint8Array(32).fill(7));
  const set = await cookies.write(flow);
  const forged = (value: string) => {
    const [payload, mac] = value.split(".");
    const json = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    const altered = btoa(JSON.stringify({ ...json, state: "attacker" })).replace(/\+/g, "-").replace(
      /\//g,
      "_",
    )
      .replace(/=+$/, "");
    return `${altered}.${mac}`;
  };
  assert.equal(await cookies.read(carrying(set, forged), 1_000), null);
  assert.equal(await cookies.read(carrying(set, (v) => v.slice(0, -2)), 1_000), null);
  assert.equal(await cookies.read(carrying(set, (v) => v.replace(".", "")), 1_000), null);
  const other = await createFlowCookies(new Uint8Array(32).fill(8));
  assert.equal(await other.read(carrying(set), 1_000), null);
  assert.equal(await cookies.read(new Request("https://ui.example/sso/callback"), 1_000), null);
});
