import assert from "node:assert/strict";
import { parseConfig } from "./load.ts";
import { isLoopbackHost } from "./ui_schema.ts";

const oidc = {
  issuer: "https://sso.example.com/realms/eng",
  clientId: "recondo",
  clientSecretFile: "/run/secrets/oidc",
  redirectUrl: "https://recondo.example.com:8444/sso/callback",
  adminGroups: ["platform"],
};

Deno.test("the ui section defaults to nothing: UI on the proxy port, no TLS, no single sign-on", () => {
  const { ui } = parseConfig({});
  assert.deepEqual(ui, {});
});

Deno.test("single sign-on gets its defaults: groups claim, scopes, no viewer groups", () => {
  const { ui } = parseConfig({ ui: { oidc } });
  assert.equal(ui.oidc?.groupsClaim, "groups");
  assert.deepEqual(ui.oidc?.scopes, ["openid", "profile", "email"]);
  assert.deepEqual(ui.oidc?.viewerGroups, []);
  assert.deepEqual(ui.oidc?.adminGroups, ["platform"]);
});

Deno.test("bad ui settings are refused naming the field and the value", () => {
  const cases: [unknown, RegExp][] = [
    [
      { oidc: { ...oidc, issuer: "http://sso.example.com" } },
      /ui\.oidc\.issuer must be an https:\/\/ URL \(http:\/\/ only on a loopback host\) \(got "http:\/\/sso\.example\.com"\)/,
    ],
    [
      { oidc: { ...oidc, issuer: "sso.example.com" } },
      /ui\.oidc\.issuer must be a URL such as https:\/\/sso\.example\.com/,
    ],
    [
      { oidc: { ...oidc, redirectUrl: "https://r.example.com/callback" } },
      /ui\.oidc\.redirectUrl must end in \/sso\/callback/,
    ],
    [
      { oidc: { ...oidc, adminGroups: [] } },
      /ui\.oidc must list at least one group in adminGroups or viewerGroups, or nobody could log in/,
    ],
    [{ oidc: { ...oidc, scopes: ["profile"] } }, /ui\.oidc\.scopes must include openid/],
    [
      { oidc: { ...oidc, clientId: "" } },
      /ui\.oidc\.clientId must be the client id registered at the provider/,
    ],
    [{ tls: { certFile: "/run/ui.crt" } }, /ui\.tls\.keyFile/],
    [{ listen: "8444" }, /ui\.listen must be host:port, e\.g\. 0\.0\.0\.0:8444 \(got "8444"\)/],
  ];
  for (const [ui, message] of cases) assert.throws(() => parseConfig({ ui }), message);
});

Deno.test("a provider on this machine may use plain http; loopback hosts are told apart", () => {
  const { ui } = parseConfig({
    ui: {
      oidc: { ...oidc, issuer: "http://127.0.0.1:9000", redirectUrl: "http://localhost:8444/sso/callback" },
    },
  });
  assert.equal(ui.oidc?.issuer, "http://127.0.0.1:9000");
  for (const host of ["localhost", "127.0.0.1", "127.9.8.7", "::1", "[::1]", "::ffff:127.0.0.1"]) {
    assert.ok(isLoopbackHost(host), host);
  }
  for (const host of ["0.0.0.0", "10.0.0.1", "", "::", "example.com", "128.0.0.1"]) {
    assert.ok(!isLoopbackHost(host), host);
  }
});
