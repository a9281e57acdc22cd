import assert from "node:assert/strict";
import { join } from "node:path";
import { loadUiSecrets } from "./ui_files.ts";
import { parseConfig } from "./load.ts";

const envOf = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });

async function write(dir: string, name: string, text: string, mode: number): Promise<string> {
  const path = join(dir, name);
  await Deno.writeTextFile(path, text, { mode });
  await Deno.chmod(path, mode);
  return path;
}

const oidc = {
  issuer: "https://sso.example.com",
  clientId: "recondo",
  redirectUrl: "https://recondo.example.com/sso/callback",
  viewerGroups: ["finops"],
};

Deno.test("the UI's certificate, key and client secret are read from the files the config names", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ui = parseConfig({
      ui: {
        tls: {
          certFile: await write(dir, "ui.crt", "CERT PEM", 0o644),
          keyFile: await write(dir, "ui.key", "KEY PEM", 0o600),
        },
        oidc: { ...oidc, clientSecretFile: await write(dir, "secret", "s3cret-value\nignored\n", 0o400) },
      },
    }).ui;
    const secrets = await loadUiSecrets(ui, envOf({}));
    assert.deepEqual(secrets.tls, { cert: "CERT PEM", key: "KEY PEM" });
    assert.equal(secrets.oidc?.clientSecret, "s3cret-value");
    assert.equal(secrets.oidc?.issuerCa, null);
    assert.deepEqual(await loadUiSecrets(parseConfig({}).ui, envOf({})), { tls: null, oidc: null });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the environment names the UI's secret files and wins over the config", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ui = parseConfig({ ui: { oidc: { ...oidc, clientSecretFile: join(dir, "missing") } } }).ui;
    const secrets = await loadUiSecrets(
      ui,
      envOf({
        RECONDO_UI_TLS_CERT_FILE: await write(dir, "env.crt", "ENV CERT", 0o644),
        RECONDO_UI_TLS_KEY_FILE: await write(dir, "env.key", "ENV KEY", 0o600),
        RECONDO_UI_OIDC_CLIENT_SECRET_FILE: await write(dir, "env-secret", "from-env", 0o600),
      }),
    );
    assert.deepEqual(secrets.tls, { cert: "ENV CERT", key: "ENV KEY" });
    assert.equal(secrets.oidc?.clientSecret, "from-env");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a readable key or client secret, a missing file or half a TLS pair stops the start", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cert = await write(dir, "ui.crt", "CERT", 0o644);
    const key = await write(dir, "ui.key", "KEY", 0o640);
    await assert.rejects(
      loadUiSecrets(parseConfig({ ui: { tls: { certFile: cert, keyFile: key } } }).ui, envOf({})),
      /ui\.tls\.keyFile names .*ui\.key, which is readable by group or others \(mode 640\)/,
    );
    await assert.rejects(
      loadUiSecrets(parseConfig({}).ui, envOf({ RECONDO_UI_TLS_CERT_FILE: cert })),
      /HTTPS for the UI needs both a certificate and a key.*only the certificate is set/,
    );
    const secret = await write(dir, "secret", "x", 0o644);
    await assert.rejects(
      loadUiSecrets(parseConfig({ ui: { oidc: { ...oidc, clientSecretFile: secret } } }).ui, envOf({})),
      /ui\.oidc\.clientSecretFile names .*secret, which is readable by group or others \(mode 644\)/,
    );
    await assert.rejects(
      loadUiSecrets(
        parseConfig({ ui: { oidc } }).ui,
        envOf({ RECONDO_UI_OIDC_CLIENT_SECRET_FILE: join(dir, "nope") }),
      ),
      /RECONDO_UI_OIDC_CLIENT_SECRET_FILE names .*nope, which cannot be read/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
