/**
 * The UI's own HTTPS listener with the real UI: over HTTPS every cookie is `Secure` and HSTS is sent;
 * the same UI over plain HTTP on loopback (the proxy port) sends neither. A login over each shows it for
 * the session cookie too.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeTestCertificate } from "../fake_provider/tls.ts";
import { startUiListener, uiAddress } from "../../ui/listen.ts";
import { ADMIN, startUiStack } from "./stack.ts";

async function write(dir: string, name: string, text: string, mode: number): Promise<string> {
  const path = join(dir, name);
  await Deno.writeTextFile(path, text, { mode });
  await Deno.chmod(path, mode);
  return path;
}

/** GETs the login form, then logs in with its CSRF cookie; returns both answers' headers. */
async function loginOver(base: string, client?: Deno.HttpClient): Promise<{ form: Headers; login: Headers }> {
  const form = await fetch(`${base}/login`, { client });
  const html = await form.text();
  assert.equal(form.status, 200);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
  const login = await fetch(`${base}/login`, {
    client,
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: base,
      cookie: form.headers.getSetCookie()[0].split(";")[0],
    },
    body: new URLSearchParams({ _csrf: csrf, name: ADMIN.name, password: ADMIN.password, next: "/" }),
  });
  await login.body?.cancel();
  assert.equal(login.status, 303);
  return { form: form.headers, login: login.headers };
}

Deno.test({
  name: "over HTTPS the UI's cookies are Secure and HSTS is sent; over loopback HTTP neither",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const tls = makeTestCertificate(["localhost", "127.0.0.1"]);
    const dir = await Deno.makeTempDir({ prefix: "recondo-ui-tls-" });
    const stack = await startUiStack({
      ui: {
        listen: "127.0.0.1:0",
        tls: {
          certFile: await write(dir, "ui.crt", tls.cert, 0o644),
          keyFile: await write(dir, "ui.key", tls.key, 0o600),
        },
      },
    });
    const listener = startUiListener(stack.ui, "127.0.0.1:0", { tls: stack.uiTls });
    const client = Deno.createHttpClient({ caCerts: [tls.caCert] });
    try {
      assert.equal(listener.url, `https://127.0.0.1:${listener.port}`);
      const https = await loginOver(listener.url, client);
      assert.equal(https.form.get("strict-transport-security"), "max-age=31536000");
      assert.match(
        https.form.getSetCookie()[0],
        /^recondo_login_csrf=.*; HttpOnly; SameSite=Strict; .*; Secure$/,
      );
      const session = https.login.getSetCookie().find((c) => c.startsWith("recondo_ui="));
      assert.match(session!, /; HttpOnly; SameSite=Strict; .*; Secure$/);
      assert.equal(https.login.get("strict-transport-security"), "max-age=31536000");

      const http = await loginOver(stack.url);
      assert.equal(http.form.get("strict-transport-security"), null);
      assert.ok(http.form.getSetCookie().every((c) => !/secure/i.test(c)), http.form.getSetCookie().join());
      assert.ok(http.login.getSetCookie().every((c) => !/secure/i.test(c)), http.login.getSetCookie().join());
    } finally {
      client.close();
      await listener.close();
      await stack.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the UI listens in plain HTTP on loopback only; with TLS on any address", () => {
  assert.deepEqual(uiAddress("127.0.0.1:8444", { tls: false }), { hostname: "127.0.0.1", port: 8444 });
  assert.deepEqual(uiAddress("[::1]:8444", { tls: false }), { hostname: "::1", port: 8444 });
  assert.deepEqual(uiAddress("0.0.0.0:8444", { tls: true }), { hostname: "0.0.0.0", port: 8444 });
  for (const address of ["0.0.0.0:8444", "10.0.0.5:8444", "recondo.example.com:8444", "[::]:8444"]) {
    assert.throws(
      () => uiAddress(address, { tls: false }),
      /Refusing to serve the web UI over plain HTTP on .*: passwords and session cookies would cross the network in clear\. Give it a certificate and key \(ui\.tls\.certFile and ui\.tls\.keyFile/,
      address,
    );
  }
});
