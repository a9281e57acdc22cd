import assert from "node:assert/strict";
import { createSso } from "./sso.ts";

function closedPort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}

const settings = (issuer: string) => ({
  issuer,
  clientId: "recondo",
  redirectUrl: "https://ui.example/sso/callback",
  scopes: ["openid"],
  groupsClaim: "groups",
  adminGroups: ["platform"],
  viewerGroups: [],
  clientSecret: "secret",
  issuerCa: null,
});

Deno.test("a provider that cannot be reached fails the login with its address, and is tried again next time", async () => {
  const sessions: string[] = [];
  const sso = await createSso(settings(`https://127.0.0.1:${closedPort()}`), {
    hmacKey: new Uint8Array(32),
    startSession: (name) => Promise.resolve(`session for ${sessions.push(name)}`),
    audit: () => Promise.resolve(),
  });
  for (let attempt = 0; attempt < 2; attempt++) {
    await assert.rejects(sso.start("/"), /Cannot reach the OpenID provider https:\/\/127\.0\.0\.1:\d+: /);
  }
  assert.equal(await sso.logoutUrl(), null);
  assert.deepEqual(sessions, []);
});

Deno.test("a callback without a pending login is refused before the provider is asked anything", async () => {
  const sso = await createSso(settings(`https://127.0.0.1:${closedPort()}`), {
    hmacKey: new Uint8Array(32),
    startSession: () => Promise.reject(new Error("no session may start")),
    audit: () => Promise.reject(new Error("nothing to audit")),
  });
  const url = new URL("https://ui.example/sso/callback?code=abc&state=xyz");
  const outcome = await sso.finish(new Request(url), url);
  assert.deepEqual(outcome, {
    ok: false,
    status: 400,
    message: "This login has no pending single sign-on (it expired or was started elsewhere).",
    flowEnded: true,
  });
});
