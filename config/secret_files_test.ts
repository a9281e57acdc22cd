import assert from "node:assert/strict";
import { join } from "node:path";
import { checkSecretFiles } from "./secret_files.ts";
import { dataPaths } from "./paths.ts";

const envOf = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });

Deno.test("key files named by the environment must not be readable by group or others", async () => {
  const dir = await Deno.makeTempDir();
  const key = join(dir, "hmac.key");
  await Deno.writeFile(key, new Uint8Array(32), { mode: 0o600 });
  await Deno.chmod(key, 0o600);
  await checkSecretFiles(envOf({ RECONDO_HMAC_KEY_FILE: key }));
  await Deno.chmod(key, 0o640);
  await assert.rejects(
    checkSecretFiles(envOf({ RECONDO_HMAC_KEY_FILE: key })),
    /RECONDO_HMAC_KEY_FILE names .*hmac\.key, which is readable by group or others \(mode 640\)/,
  );
  await Deno.chmod(key, 0o400);
  await checkSecretFiles(envOf({ RECONDO_HMAC_KEY_FILE: key }));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a named secret file that is missing stops the start; the certificate may be world-readable", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(
    checkSecretFiles(envOf({ RECONDO_CA_KEY_FILE: join(dir, "missing.key") })),
    /RECONDO_CA_KEY_FILE names .*missing\.key, which cannot be read/,
  );
  const cert = join(dir, "ca.crt");
  await Deno.writeTextFile(cert, "-----BEGIN CERTIFICATE-----\n", { mode: 0o644 });
  await Deno.chmod(cert, 0o644);
  await checkSecretFiles(envOf({ RECONDO_CA_CERT_FILE: cert }));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the secret files replace the data dir's paths", () => {
  const paths = dataPaths(
    "/data",
    envOf({ RECONDO_CA_CERT_FILE: "/run/secrets/ca.crt", RECONDO_HMAC_KEY_FILE: "/k" }),
  );
  assert.equal(paths.caCert, "/run/secrets/ca.crt");
  assert.equal(paths.caKey, "/data/ca/ca.key");
  assert.equal(paths.secretKey, "/k");
});
